"""The parameters that pages and the API read from a request, each declared with its limits."""

import re

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from . import search

PAGE_SIZE = 10  # results on a page of search, and the API's default
MAX_LIMIT = 50  # results in one answer of the search API
MAX_OFFSET = 10_000  # how deep search results can be paged
DIGITS = re.compile(r"[0-9]{1,20}")


class WholeNumberField(forms.IntegerField):
    """ASCII digits only: int(), and so IntegerField, also reads ＵＮＩＣＯＤＥ digits, 1_0, +5 and " 5"."""

    default_error_messages = {
        "invalid": "must be a whole number",
        "min_value": "must be at least %(limit_value)s",
        "max_value": "must be at most %(limit_value)s",
    }

    def __init__(self, *, cap=None, **kwargs):
        self.cap = cap  # a larger number is read as this one: more than there is to give
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not DIGITS.fullmatch(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)

    def clean(self, value):
        number = super().clean(value)
        if number is None:
            return self.initial
        return min(number, self.cap) if self.cap is not None else number


class TextField(forms.CharField):
    """Any text: search strips control characters, NUL among them, itself (search.text)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class RegionField(TextField):
    """A region's name as a filter: at most 50 characters (no region's is longer), None for none."""

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def clean(self, value):
        return super().clean(value)[:50] or None


class ParametersForm(forms.Form):
    """A form of query parameters: messages that name the parameter, for an answer of 400."""

    def error_message(self):
        return "; ".join(f"{name} {message}" for name, messages in self.errors.items() for message in messages)


class SearchPageForm(ParametersForm):
    """The search page reads what it can: a page number that is not one is the first page
    (a reader's typo is no error worth a 400)."""

    q = TextField(required=False, strip=False)
    region = RegionField()
    page = WholeNumberField(min_value=1, max_value=MAX_OFFSET // PAGE_SIZE, initial=1)

    def parameters(self):
        """(q, region, page), whatever the request holds."""
        self.is_valid()
        return self.cleaned_data.get("q", ""), self.cleaned_data.get("region"), self.cleaned_data.get("page", 1)


class ApiSearchForm(ParametersForm):
    q = TextField(strip=False, error_messages={"required": "is required: the words to search for"})
    region = RegionField()
    limit = WholeNumberField(min_value=1, cap=MAX_LIMIT, initial=PAGE_SIZE)
    offset = WholeNumberField(min_value=0, max_value=MAX_OFFSET, initial=0)

    def clean_q(self):
        q = self.cleaned_data["q"]
        if not q.strip():
            raise forms.ValidationError("is required: the words to search for", code="required")
        if len(" ".join(q.split())) > search.MAX_QUERY_LENGTH:
            raise forms.ValidationError(f"is longer than {search.MAX_QUERY_LENGTH} characters", code="max_length")
        if not search.is_searchable(q):
            raise forms.ValidationError("must hold at least one letter or digit", code="invalid")
        return q


class ApiArticlesForm(ParametersForm):
    limit = WholeNumberField(min_value=1, cap=500, initial=100)
    offset = WholeNumberField(min_value=0, max_value=10**9, initial=0)
