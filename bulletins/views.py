"""HTTP answers: the bulletin list, one page per bulletin, and the error pages."""

from django.shortcuts import get_object_or_404, render

from .models import Article


def index(request):
    return render(request, "index.html", {"articles": Article.objects.all()})


def article(request, slug):
    article = get_object_or_404(Article, slug=slug)
    sections = list(article.sections.all())
    context = {
        "article": article,
        "sections": sections,
        "toc": [section for section in sections if section.title],
        "previous": article.previous(),
        "next": article.next(),
    }
    return render(request, "article.html", context)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


