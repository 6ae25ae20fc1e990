"""Public pages make a small number of queries, however much content there is."""

import pytest

from clinic.models import TrustMark
from tests.factories import PageFactory, PractitionerFactory

pytestmark = pytest.mark.django_db


def test_the_home_page_makes_a_constant_number_of_queries(
    client, demo, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        client.get("/da/")
    PractitionerFactory.create_batch(10)
    for order in range(10, 20):
        TrustMark.objects.create(clinic=demo, order=order, title_da=f"Mærke {order}")
    PageFactory.create_batch(5, in_navigation=True)
    with django_assert_max_num_queries(6):
        response = client.get("/da/")
    assert response.content.decode().count('class="practitioner-card"') == 11


def test_a_simple_page_makes_a_constant_number_of_queries(
    client, demo, django_assert_max_num_queries
):
    PageFactory.create_batch(10, in_navigation=True)
    with django_assert_max_num_queries(5):
        assert client.get("/en/contact/").status_code == 200
