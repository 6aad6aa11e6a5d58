"""Serializer fields that take JSON of the documented type only.

DRF would read 0 as "0" for a string field and "7" as 7 for an integer field; an API that documents
types should refuse both, and bodies forwarded upstream must go as sent.
"""

from rest_framework import serializers


class StrictTypeMixin:
    json_types: tuple = (str,)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, self.json_types):
            self.fail("invalid")
        return super().to_internal_value(data)


class StringField(StrictTypeMixin, serializers.CharField):
    pass


class EmailStringField(StrictTypeMixin, serializers.EmailField):
    pass


class IntegerField(StrictTypeMixin, serializers.IntegerField):
    json_types = (int,)
