"""Contact photos: image uploads of at most 1 MB, shrunk to fit 200x300 pixels (the kernel's
``gateway.sdk.images``)."""

from __future__ import annotations

from gateway.sdk import images
from plugins.contacts.models import Contact

MAX_BYTES = images.MAX_BYTES


def set_photo(contact: Contact, data_url: str) -> None:
    contact.photo, contact.photo_mime = images.normalise(images.decode(data_url))


def clear_photo(contact: Contact) -> None:
    contact.photo = contact.photo_mime = None
