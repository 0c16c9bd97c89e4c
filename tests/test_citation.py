"""A bulletin's reference as GB/T 7714-2015 sets one ([EB/OL]), and its sections' short addresses."""

import pytest

from bulletins.citation import reference
from bulletins.models import Article

pytestmark = pytest.mark.django_db

ADDRESS = "https://example.org/articles/x/"


def test_a_reference_names_the_source_and_the_day_the_text_states():
    jiangsu = Article.objects.get(slug="jiangsu-social-assistance-2023")
    assert reference(jiangsu, ADDRESS, cited_on="2026-12-06") == (
        "江苏省民政厅. 江苏省召开2023年全省社会救助工作会议[EB/OL]. (2023-02-24)[2026-12-06]. https://example.org/articles/x/."
    )


def test_a_reference_of_an_undated_text_gives_no_date_and_names_the_byline():
    chongqing = Article.objects.get(slug="chongqing-yutong-shouhu")
    assert reference(chongqing, ADDRESS, "二是典型示范。") == (
        "本报记者 皮磊. 重庆启动“渝童守护”行动 进一步健全未成年人保护体系: 二是典型示范[EB/OL]. [引用日期]. https://example.org/articles/x/."
    )


@pytest.mark.parametrize("prefix", ["", "/zh-hant"])
def test_a_short_section_address_sends_the_reader_to_the_section(client, prefix):
    response = client.get(f"{prefix}/articles/chongqing-yutong-shouhu/s/1/")
    assert response.status_code == 302 and response["Location"] == f"{prefix}/articles/chongqing-yutong-shouhu/#lead"
    article = Article.objects.get(slug="chongqing-yutong-shouhu")
    for section in article.sections.all():
        location = client.get(f"/articles/{article.slug}/s/{section.position}/")["Location"]
        assert location == f"/articles/{article.slug}/#{section.fragment()}" and location.isascii()
    assert client.get(f"/articles/{article.slug}/s/{article.sections.count() + 1}/").status_code == 404
    assert client.get("/articles/no-such-bulletin/s/1/").status_code == 404
    assert client.get(f"/articles/{article.slug}/s/{10**30}/").status_code == 404


def test_the_api_gives_each_section_its_reference_and_short_address(client):
    data = client.get("/api/articles/chongqing-yutong-shouhu/").json()
    assert data["reference"].endswith("[EB/OL]. [引用日期]. http://testserver/articles/chongqing-yutong-shouhu/.")
    second = data["sections"][1]
    assert second["short_url"] == "http://testserver/articles/chongqing-yutong-shouhu/s/2/"
    assert second["reference"] == reference(Article.objects.get(slug="chongqing-yutong-shouhu"), second["short_url"], second["title"])


@pytest.mark.parametrize("prefix", ["", "/zh-hant"])
def test_a_short_paragraph_address_sends_the_reader_to_the_paragraph_counted_as_search_counts(client, prefix):
    article = Article.objects.get(slug="chongqing-yutong-shouhu")
    for section in article.sections.all():
        for index in range(len(section.paragraphs)):
            location = client.get(f"{prefix}/articles/{article.slug}/p/{section.number(index)}/")["Location"]
            assert location == f"{prefix}/articles/{article.slug}/#{section.fragment(index)}"
    last = max(s.number(len(s.paragraphs) - 1) for s in article.sections.all())
    for number in (0, last + 1, 10**30):
        assert client.get(f"/articles/{article.slug}/p/{number}/").status_code == 404
