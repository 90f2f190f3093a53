"""What search engines may index: the clinic's public pages, nothing else.

Private by default: every response but those of INDEXABLE_PAGES carries
`X-Robots-Tag: noindex, nofollow` (and pages drawn from templates/base.html the meta tag too),
so a page added later is kept out of search results without anyone remembering to. The
manage, waiting-list, offer and thank-you pages hold a credential in their address: a search
engine that found one (a link shared in a forum, a browser extension) must not list it.
"""

from collections.abc import Callable
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

INDEXABLE_PAGES = frozenset(
    {
        "clinic:home",
        "clinic:service_list",
        "clinic:service_detail",
        "clinic:practitioner_list",
        "clinic:practitioner_detail",
        "clinic:condition_list",
        "clinic:condition_detail",
        "booking:start",
        "discovery:request",
        "waitlist:join",
    }
)
NOINDEX = "noindex, nofollow"

# The staff's and the API's addresses are kept from crawlers. The patients' private pages
# (manage, waiting list, offer, thank-you) are not listed here on purpose: a crawler kept
# from a page never reads its noindex, and a search engine lists a disallowed address it finds
# linked somewhere as a bare link; that address holds the page's token. Crawled, such a page
# says noindex, and is never listed.
ROBOTS_TXT = """User-agent: *
Disallow: /schedule/
Disallow: /staff/
Disallow: /admin/
Disallow: /api/
"""

FAVICON = Path(__file__).parent / "static" / "clinic" / "favicon.ico"


def is_indexable(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.view_name in INDEXABLE_PAGES


class NoIndexMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_indexable(request):
            response.headers.setdefault("X-Robots-Tag", NOINDEX)
        return response


@require_safe
@cache_control(public=True, max_age=86400)
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ROBOTS_TXT, content_type="text/plain; charset=utf-8")


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico on every site whatever the page links to.
    return HttpResponse(FAVICON.read_bytes(), content_type="image/vnd.microsoft.icon")
