"""The JSON API: searches, the bulletins, one bulletin with its sections and references, and
the bulletins related to one. Every answer, errors included, in the API's one shape."""

from django.http import JsonResponse
from django.urls import reverse
from django.utils.http import urlencode

from . import citation, pages, search, traditional
from .budget import TOO_SLOW, answers_while_rebuilding, within_budget
from .caching import conditional
from .forms import ApiArticlesForm, ApiSearchForm
from .models import Article
from .routes import absolute, hl_parameter, result_url

RELATED = 5
NO_SUCH_BULLETIN = "no bulletin has this slug"
api_error = pages.json_error


def bad_request(form):
    """400, naming each bad parameter of the API's `form`."""
    return api_error(400, form.error_message(), fields={name: list(messages) for name, messages in form.errors.items()})


@answers_while_rebuilding
@conditional
def api_search(request):
    form = ApiSearchForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    raw, region, limit, offset = (form.cleaned_data[name] for name in ("q", "region", "limit", "offset"))
    found = within_budget(search.places, raw, region=region, limit=limit, offset=offset)
    if found is None:
        return api_error(503, TOO_SLOW)
    highlight = hl_parameter(found.query)
    payload = {
        "query": found.query.text,
        "region": region,
        "total": found.total,
        "total_bulletins": found.bulletins,
        "limit": limit,
        "offset": offset,
        "regions": found.regions,
        "absent": found.query.absent,
        "suggestion": found.suggestion,
        "ignored": found.query.ignored,
        "results": [
            {
                "url": absolute(request, result_url(place, highlight)),
                "article": {"slug": place.article.slug, "title": place.article.title},
                "section": {"id": place.section.anchor, "title": place.section.title} if place.section else None,
                "paragraph": {"id": place.paragraph_id, "number": place.section.number(place.paragraph)} if place.section else None,
                "place": place.name or None,
                "snippet": str(place.snippet),
                "score": place.score,
                "missing": place.missing,
            }
            for place in found.places
        ],
    }
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


def article_summary(request, article):
    return {
        "slug": article.slug,
        "title": article.title,
        "region": article.region,
        "source": article.source,
        "byline": article.byline,
        "date": article.date.isoformat() if article.date else None,
        "added": article.added.isoformat() if article.added else None,
        "order": article.order,
        "summary": article.summary,
        "url": absolute(request, article.get_absolute_url()),
        "api_url": absolute(request, reverse("api-article", kwargs={"slug": article.slug})),
        "reference": citation.reference(article, absolute(request, article.get_absolute_url())),
    }


@conditional
def api_articles(request):
    """Every bulletin as data, in reading order, a page at a time."""
    form = ApiArticlesForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    limit, offset = form.cleaned_data["limit"], form.cleaned_data["offset"]
    articles = Article.objects.all()
    total = articles.count()
    following = None
    if offset + limit < total:
        following = absolute(request, f"{reverse('api-articles')}?{urlencode({'limit': limit, 'offset': offset + limit})}")
    return JsonResponse(
        {
            "total": total,
            "next": following,
            "articles": [article_summary(request, a) for a in articles[offset : offset + limit]],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@conditional
def api_article(request, slug):
    """One bulletin as data: its metadata and each section with its URL and text."""
    article = Article.objects.filter(slug=slug).first()
    if article is None:
        return api_error(404, NO_SUCH_BULLETIN)
    page = absolute(request, article.get_absolute_url())
    sections = [
        {
            "id": section.anchor,
            "title": section.title,
            "level": section.level,
            "url": f"{page}#{section.fragment()}",
            "short_url": short,
            "reference": citation.reference(article, short, section.title),
            "paragraphs": [{"id": section.block_id(i), "text": text} for i, text in enumerate(section.paragraphs)],
            "html": section.html,
        }
        for section in article.sections.all()
        for short in [absolute(request, reverse("section", kwargs={"slug": article.slug, "number": section.position}))]
    ]
    return JsonResponse({**article_summary(request, article), "sections": sections}, json_dumps_params={"ensure_ascii": False})


@answers_while_rebuilding
@conditional
def api_related(request, slug):
    """Other bulletins that share this one's key words: its title's and its sections' titles'
    words, searched as a reader's query, so the search's own weighting (rarer words count
    more) decides; best first. ?script=hant gives the titles and addresses in traditional."""
    article = Article.objects.filter(slug=slug).first()
    if article is None:
        return api_error(404, NO_SUCH_BULLETIN)
    words = " ".join([article.title, *article.sections.titled().values_list("title", flat=True)])
    found = within_budget(search.search, words[: search.MAX_QUERY_LENGTH], limit=RELATED + 1)
    if found is None:  # never an empty list that a cache would keep as the answer
        response = api_error(503, TOO_SLOW)
        response["Retry-After"] = "5"
        return response
    hant = request.GET.get("script") == "hant"
    related = [
        {
            "slug": entry.article.slug,
            "title": traditional.converter()(entry.article.title) if hant else entry.article.title,
            "region": traditional.converter()(entry.article.region) if hant else entry.article.region,
            "url": absolute(request, traditional.localized(entry.article.get_absolute_url()) if hant else entry.article.get_absolute_url()),
        }
        for entry in found.entries
        if entry.article.slug != slug
    ][:RELATED]
    return JsonResponse({"related": related}, json_dumps_params={"ensure_ascii": False})
