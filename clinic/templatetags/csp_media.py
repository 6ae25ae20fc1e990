"""`{% media_with_nonce media %}`: form media rendered with the request's CSP nonce.

Only the inline parts (the rich-text editor's import map) need the nonce, but
every tag gets it, as browsers accept a nonce on scripts loaded from files too.
"""

from django import template
from js_asset import Media

register = template.Library()


@register.simple_tag(takes_context=True)
def media_with_nonce(context, media):
    request = context.get("request")
    nonce = getattr(request, "csp_nonce", None)
    if not media or nonce is None:
        return media
    return Media.from_media(media, nonce=nonce).render()
