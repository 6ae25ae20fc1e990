"""Moderating testimonials in the admin: actions, consent record, e-mail privacy, order."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from clinic import page_cache
from clinic.models import ConsentText
from testimonials.models import Testimonial
from tests.conditions.factories import ConditionFactory
from tests.conditions.test_admin import form_data, form_errors, submit
from tests.conftest import axe_violations, screenshot
from tests.factories import ConsentTextFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/testimonials/testimonial/"
ADD = "/admin/testimonials/testimonial/add/"
EMAIL = "private.patient@mail.example"
Status = Testimonial.Status


@pytest.fixture
def consent():
    return ConsentTextFactory(kind=ConsentText.Kind.TESTIMONIAL, text_en="I agree to publish.")


@pytest.fixture
def make(consent):
    def make_testimonial(**fields):
        values = {
            "language": "da",
            "text_da": "Min nakke har det meget bedre.",
            "title_da": "Meget bedre",
            "display_name": "Lise",
            "rating": 4,
            "email": EMAIL,
            "consent_given_at": datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
            "consent_text": consent,
        } | fields
        return Testimonial.objects.create(**values)

    return make_testimonial


def logged_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def editor(client):
    return logged_in(client, UserFactory(groups=["Editors"]))


@pytest.fixture
def moderator(client):
    """May add and change testimonials, but not see the e-mail address."""
    user = UserFactory()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="testimonials",
            codename__in=["add_testimonial", "view_testimonial", "change_testimonial"],
        )
    )
    assert not user.has_perm("testimonials.view_testimonial_email")
    return logged_in(client, user)


def change_url(testimonial):
    return reverse("admin:testimonials_testimonial_change", args=[testimonial.pk])


def run_action(client, action, testimonials, **extra):
    data = {"action": action, "_selected_action": [t.pk for t in testimonials], "index": 0}
    return client.post(LIST, data | extra)


def confirm_reject(client, testimonials, reason):
    # The second step: the page asking for the reason posts without "index".
    data = {"action": "reject", "_selected_action": [t.pk for t in testimonials], "post": "yes"}
    return client.post(LIST, data | {"reason": reason})


def status_of(testimonial):
    testimonial.refresh_from_db()
    return testimonial.status


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def public_list_url():
    """The public page of testimonials, once the other half of the app is there."""
    for name in ("testimonials:index", "testimonials:list"):
        try:
            with translation.override("da"):
                return reverse(name)
        except NoReverseMatch:
            continue
    return None


# --- The pages open ---------------------------------------------------------------


@pytest.mark.parametrize("page", ["list", "add", "change"])
def test_every_testimonial_admin_page_opens(editor, make, page):
    testimonial = make()
    testimonial.conditions.add(ConditionFactory())
    url = {"list": LIST, "add": ADD, "change": change_url(testimonial)}[page]
    response = editor.get(url)
    assert response.status_code == 200
    if page != "list":
        html = response.content.decode()
        assert "modeltranslation/js/tabbed_translation_fields.js" in html
        for code in ["da", "en", "nb", "sv", "de"]:
            assert f'name="text_{code}"' in html


def test_the_list_shows_the_title_in_the_language_it_was_written_in(editor, make):
    testimonial = make(
        language="nb", title_da="Dansk oversættelse", title_nb="Norsk original", text_nb="Tekst"
    )
    testimonial.conditions.add(ConditionFactory())
    response = editor.get(LIST)
    html = response.content.decode()
    assert "Norsk original" in html and "Dansk oversættelse" not in html
    columns = response.context["cl"].list_display
    for column in ["display_name", "rating", "language", "status", "featured", "created_at"]:
        assert column in columns
    filters = {spec.title for spec in response.context["cl"].filter_specs}
    assert {"status", "written in", "rating", "featured", "origin", "conditions"} <= filters


def test_search_finds_text_in_any_language(editor, make):
    found = make(language="nb", text_nb="Ryggen er mye bedre etter behandlingen.")
    make(text_da="Noget helt andet.")
    response = editor.get(LIST, {"q": "mye bedre"})
    assert list(response.context["cl"].result_list) == [found]


# --- Actions: approve, reject, withdraw ---------------------------------------------


def test_approve_puts_testimonials_on_the_site_and_renews_the_page_cache(editor, make):
    waiting, other = make(), make(display_name="Ole")
    version = page_cache.content_version()

    response = run_action(editor, "approve", [waiting, other])

    assert response.status_code == 302
    assert status_of(waiting) == status_of(other) == Status.APPROVED
    assert set(Testimonial.objects.approved()) == {waiting, other}
    assert page_cache.content_version() != version


def test_approve_leaves_a_withdrawn_testimonial_withdrawn(editor, make):
    withdrawn = make(status=Status.WITHDRAWN)
    response = editor.post(
        LIST,
        {"action": "approve", "_selected_action": [withdrawn.pk], "index": 0},
        follow=True,
    )
    assert status_of(withdrawn) == Status.WITHDRAWN
    assert any("withdrawn at the patient's request" in m for m in messages_of(response))


def test_reject_asks_for_the_reason_on_a_page_of_its_own(editor, make):
    low = make(rating=1, title_da="Skuffende")

    response = run_action(editor, "reject", [low])

    assert response.status_code == 200
    html = response.content.decode()
    assert "A low rating is never a reason to reject a testimonial." in html
    for reason in ("privacy", "abusive", "off-topic"):
        assert reason in html
    assert "Skuffende" in html
    assert f'name="_selected_action" value="{low.pk}"' in html
    assert 'name="reason"' in html and "required" in html
    assert status_of(low) == Status.SUBMITTED, "nothing changes before the reason is given"


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_a_reason_changes_nothing_and_says_so(editor, make, reason):
    testimonial = make()

    response = confirm_reject(editor, [testimonial], reason)

    assert response.status_code == 200
    assert "Nothing was rejected: write the reason first." in messages_of(response)
    assert "Write why the testimonials are rejected." in response.content.decode()
    assert status_of(testimonial) == Status.SUBMITTED
    assert testimonial.rejection_reason == ""


def test_reject_with_a_reason_stores_it(editor, make):
    approved = make(status=Status.APPROVED)
    waiting = make(display_name="Ole")
    version = page_cache.content_version()

    response = confirm_reject(editor, [approved, waiting], "Names another patient.")

    assert response.status_code == 302
    for testimonial in (approved, waiting):
        assert status_of(testimonial) == Status.REJECTED
        assert testimonial.rejection_reason == "Names another patient."
    assert not Testimonial.objects.approved().exists()
    assert page_cache.content_version() != version


def test_withdraw_takes_a_testimonial_off_the_site_at_once(editor, make):
    shown = make(status=Status.APPROVED, featured=True, text_da="Tak for god behandling.")
    url = public_list_url()
    visitor = Client()
    if url:
        page = visitor.get(url)
        assert page.status_code == 200
        assert "Tak for god behandling." in page.content.decode()
        assert "Tak for god behandling." in visitor.get(url).content.decode()  # from the cache

    response = run_action(editor, "withdraw", [shown])

    assert response.status_code == 302
    assert status_of(shown) == Status.WITHDRAWN
    assert shown not in Testimonial.objects.approved()
    assert shown not in Testimonial.objects.featured()
    if url is None:
        pytest.skip("the public page of testimonials is not built yet")
    assert "Tak for god behandling." not in visitor.get(url).content.decode()


def test_an_approved_testimonial_shows_on_the_public_page(editor, make):
    testimonial = make(text_da="Jeg kan gå lange ture igen.")
    run_action(editor, "approve", [testimonial])
    assert testimonial in Testimonial.objects.approved()
    url = public_list_url()
    if url is None:
        pytest.skip("the public page of testimonials is not built yet")
    assert "Jeg kan gå lange ture igen." in Client().get(url).content.decode()


def test_the_actions_need_the_change_permission(client, make):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_testimonial"))
    logged_in(client, user)
    testimonial = make()
    response = client.get(LIST)
    assert response.status_code == 200
    assert not response.context["cl"].model_admin.get_actions(response.wsgi_request)
    run_action(client, "approve", [testimonial])
    assert status_of(testimonial) == Status.SUBMITTED


# --- The change form ------------------------------------------------------------------


def test_rejecting_in_the_change_form_needs_a_reason(editor, make):
    testimonial = make()

    response = submit(editor, change_url(testimonial), {"status": Status.REJECTED})

    assert form_errors(response)["rejection_reason"] == ["Write why the testimonial is rejected."]
    assert 'role="alert"' in response.content.decode()  # the error summary
    assert status_of(testimonial) == Status.SUBMITTED

    response = submit(
        editor,
        change_url(testimonial),
        {"status": Status.REJECTED, "rejection_reason": "Off-topic: about parking."},
    )
    assert response.status_code == 302, form_errors(response)
    assert status_of(testimonial) == Status.REJECTED


def test_the_consent_record_is_read_only_on_the_change_page(editor, make, consent):
    testimonial = make(origin=Testimonial.Origin.ONLINE)
    other_consent = ConsentTextFactory(kind=ConsentText.Kind.TESTIMONIAL)

    response = editor.get(change_url(testimonial))

    html = response.content.decode()
    form = response.context["adminform"].form
    for field in ["consent_given_at", "consent_text", "origin", "created_at"]:
        assert field not in form.fields
        assert f'name="{field}' not in html
        assert f"field-{field}" in html  # shown, read-only
    assert consent.text_da in html  # the words agreed to, in the language written in
    assert "Submitted online" in html
    assert "The consent record as it was received. It cannot be changed" in html

    data = form_data(response)
    data |= {
        "consent_given_at_0": ["2020-01-01"],
        "consent_given_at_1": ["10:00:00"],
        "consent_text": [str(other_consent.pk)],
        "origin": ["staff"],
        "display_name": ["Lise B."],
    }
    response = editor.post(change_url(testimonial), data)
    assert response.status_code == 302, form_errors(response)
    stored = Testimonial.objects.get(pk=testimonial.pk)
    assert stored.display_name == "Lise B."
    assert stored.consent_given_at == testimonial.consent_given_at
    assert stored.consent_text == consent
    assert stored.origin == Testimonial.Origin.ONLINE


def test_staff_add_a_testimonial_from_a_letter(editor, consent):
    newer = consent.new_version()
    response = editor.get(ADD)
    html = response.content.decode()
    date_input = re.search(r'<input[^>]*name="consent_given_at_0"[^>]*>', html).group()
    time_input = re.search(r'<input[^>]*name="consent_given_at_1"[^>]*>', html).group()
    assert " required" in date_input and " required" not in time_input
    form = response.context["adminform"].form
    assert "origin" not in form.fields
    consent_field = form.fields["consent_text"]
    assert set(consent_field.queryset) == {consent, newer}, "only testimonial consent texts"
    assert consent_field.initial == newer.pk, "the current version is chosen"
    ConsentTextFactory()  # a health-data consent text is not offered
    assert set(editor.get(ADD).context["adminform"].form.fields["consent_text"].queryset) == {
        consent,
        newer,
    }
    condition = ConditionFactory()

    response = submit(
        editor,
        ADD,
        {
            "language": "nb",
            "title_nb": "Takk",
            "text_nb": "Nakken er mye bedre.",
            "display_name": "Kari, 70",
            "rating": 5,
            "conditions": [condition.pk],
            "status": Status.APPROVED,
            # A letter has a date, not a time.
            "consent_given_at_0": "2026-09-14",
            "consent_given_at_1": "",
            "consent_text": consent.pk,
        },
    )

    assert response.status_code == 302, form_errors(response)
    testimonial = Testimonial.objects.get()
    assert testimonial.origin == Testimonial.Origin.STAFF
    assert testimonial.consent_text == consent
    assert timezone.localtime(testimonial.consent_given_at).date().isoformat() == "2026-09-14"
    assert testimonial.original("text") == "Nakken er mye bedre."
    assert list(testimonial.conditions.all()) == [condition]
    assert testimonial in Testimonial.objects.approved()
    consent.refresh_from_db()
    assert consent.locked, "consent was recorded against this version: it can no longer change"


def test_adding_needs_a_consent_date_that_is_not_in_the_future(editor, consent):
    changes = {
        "text_da": "Godt.",
        "display_name": "Bo",
        "rating": 4,
        "consent_text": consent.pk,
    }
    response = submit(editor, ADD, changes)
    assert "consent_given_at" in form_errors(response)

    tomorrow = timezone.localdate() + timedelta(days=1)
    response = submit(editor, ADD, changes | {"consent_given_at_0": tomorrow.isoformat()})
    assert form_errors(response)["consent_given_at"] == [
        "The date of consent cannot be in the future."
    ]
    assert not Testimonial.objects.exists()


def test_the_text_is_required_in_the_language_it_was_written_in(editor, consent):
    response = submit(
        editor,
        ADD,
        {
            "language": "sv",
            "text_da": "Kun på dansk.",
            "display_name": "Bo",
            "rating": 4,
            "consent_given_at_0": "2026-01-05",
            "consent_text": consent.pk,
        },
    )
    assert "text_sv" in form_errors(response)
    assert "Text (SV)" in response.content.decode()  # named in the error summary


# --- The e-mail address: only with the permission ----------------------------------


def test_the_email_is_hidden_from_staff_without_the_permission(moderator, make):
    testimonial = make()

    for url in (LIST, change_url(testimonial), ADD):
        response = moderator.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert EMAIL not in html
        assert 'name="email"' not in html
        assert "column-email" not in html
    assert "email" not in moderator.get(change_url(testimonial)).context["adminform"].form.fields

    # Neither a search nor a filter in the address reveals it.
    assert not moderator.get(LIST, {"q": "private.patient"}).context["cl"].result_list
    assert moderator.get(LIST, {"email__startswith": "private"}).status_code == 400

    # A posted address is ignored.
    data = form_data(moderator.get(change_url(testimonial))) | {"email": ["other@mail.example"]}
    assert moderator.post(change_url(testimonial), data).status_code == 302
    testimonial.refresh_from_db()
    assert testimonial.email == EMAIL


def test_an_editor_sees_searches_and_edits_the_email(editor, make):
    testimonial = make()

    html = editor.get(LIST).content.decode()
    assert EMAIL in html and "column-email" in html
    html = editor.get(change_url(testimonial)).content.decode()
    assert f'value="{EMAIL}"' in html
    assert list(editor.get(LIST, {"q": "private.patient"}).context["cl"].result_list) == [
        testimonial
    ]
    assert editor.get(LIST, {"email__startswith": "private"}).status_code == 200

    response = submit(editor, change_url(testimonial), {"email": "new@mail.example"})
    assert response.status_code == 302, form_errors(response)
    testimonial.refresh_from_db()
    assert testimonial.email == "new@mail.example"


# --- Order by drag and drop ----------------------------------------------------------


def test_the_list_is_sorted_by_drag_and_drop_and_the_site_follows_at_once(editor, make):
    first, second, third = make(order=1), make(order=2), make(order=3)
    html = editor.get(LIST).content.decode()
    assert 'id="admin_sortable2_config"' in html
    assert f'class="drag handle" pk="{first.pk}" order="1"' in html
    version = page_cache.content_version()

    # As when the third row is dragged to the top.
    response = editor.post(
        reverse("admin:testimonials_testimonial_sortable_update"),
        {"updatedItems": [[third.pk, 1], [first.pk, 2], [second.pk, 3]]},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert list(Testimonial.objects.all()) == [third, first, second]
    assert page_cache.content_version() != version


def test_testimonials_sent_from_the_site_get_places_of_their_own(editor, make):
    old = make(order=1, created_at=timezone.now() - timedelta(days=3))
    newer = make(order=0, created_at=timezone.now() - timedelta(days=1))
    newest = make(order=0)

    response = editor.get(LIST)

    assert list(response.context["cl"].result_list) == [newest, newer, old]
    orders = [t.order for t in Testimonial.objects.all()]
    assert orders == [1, 2, 3]
    assert list(Testimonial.objects.all()) == [newest, newer, old], "the order shown is kept"


def test_dragging_in_a_filtered_list_keeps_the_others_in_place(editor, make):
    a = make(order=1, status=Status.APPROVED)
    hidden = make(order=2)
    b = make(order=3, status=Status.APPROVED)
    # The filtered list shows a (1) and b (3); b is dragged above a.
    editor.post(
        reverse("admin:testimonials_testimonial_sortable_update"),
        {"updatedItems": [[b.pk, 1], [a.pk, 2]]},
        content_type="application/json",
    )
    assert list(Testimonial.objects.all()) == [b, hidden, a]


# --- Translations ----------------------------------------------------------------------


def test_testimonials_are_not_in_the_overview_of_missing_translations(editor, make):
    testimonial = make()  # Danish only: no translation is missing
    response = editor.get("/admin/translations/")
    assert response.status_code == 200
    assert change_url(testimonial) not in response.content.decode()
    html = editor.get(LIST).content.decode()
    assert "column-translated_en" not in html
    assert not re.search(r"missing_translation=", html)


# --- In a real browser: drag and drop, and the reject page -----------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_editor_reorders_and_rejects_in_a_browser(visit, consent):
    def make(name, order):
        return Testimonial.objects.create(
            language="da",
            text_da=f"Tekst fra {name}.",
            display_name=name,
            rating=4,
            order=order,
            consent_given_at=datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
            consent_text=consent,
        )

    first, second, third = make("Ane", 1), make("Bo", 2), make("Cai", 3)
    UserFactory(username="eva", groups=["Editors"])
    page = visit(extra_http_headers={"Accept-Language": "en"}).page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/admin/login/")
    page.fill("#id_username", "eva")
    page.fill("#id_password", "correct-horse-battery")
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    page.goto(LIST)
    page.wait_for_load_state("load")

    # Drag the third row above the first.
    handles = page.locator("#result_list tbody .drag.handle")
    source, target = handles.nth(2).bounding_box(), handles.nth(0).bounding_box()
    page.mouse.move(source["x"] + 5, source["y"] + 5)
    page.mouse.down()
    for step in range(1, 31):
        y = source["y"] + 5 + (target["y"] - 8 - source["y"]) * step / 30
        page.mouse.move(source["x"] + 5, y)
        page.wait_for_timeout(10)
    with page.expect_response(lambda response: "adminsortable2_update" in response.url) as saved:
        page.mouse.up()
    assert saved.value.status == 200
    assert list(Testimonial.objects.all()) == [third, first, second]

    # Reject one: the action asks for the reason on a page of its own.
    page.reload()
    page.locator(f'input[name="_selected_action"][value="{second.pk}"]').check()
    page.select_option("select[name=action]", "reject")
    with page.expect_navigation():
        page.locator("button[name=index]").click()
    assert "A low rating is never a reason" in page.content()
    assert axe_violations(page) == []
    screenshot(page, "admin-testimonial-reject")
    page.fill("#id_reason", "Names another patient.")
    with page.expect_navigation():
        page.locator("input[type=submit][value=Reject]").click()
    assert page.locator(".messagelist .success").count() == 1
    second.refresh_from_db()
    assert second.status == Status.REJECTED
    assert second.rejection_reason == "Names another patient."
    assert errors == []
