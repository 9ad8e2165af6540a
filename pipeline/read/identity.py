"""A pre-filled form's identity, read from its custom document properties
(docProps/custom.xml; pipeline.core.identity says what it means).

The part is read through the same guarded zip as the document (sizes
counted, never trusted) and parsed with entities off and no network; a part
that is missing, too big or damaged is simply no identity: the form is then
matched by the names written on it, as any other.
"""

from __future__ import annotations

from lxml import etree

from pipeline.core import identity
from pipeline.core.model import FormIdentity
from pipeline.read import zipguard

CUSTOM_PART = "docProps/custom.xml"
MAX_PART_BYTES = 256 * 1024  # a document's custom properties: a few hundred bytes
_NS_PROPS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def read_identity(z: zipguard.GuardedZip) -> FormIdentity | None:
    """The identity property of an open package, or None."""
    try:
        data = z.read(CUSTOM_PART, cap=MAX_PART_BYTES)
    except (KeyError, zipguard.PackageError):
        return None
    return identity_in(data)


def identity_in(custom_xml: bytes) -> FormIdentity | None:
    """The identity in the bytes of a custom.xml part, or None."""
    try:
        root = etree.fromstring(custom_xml, parser=_PARSER)
    except etree.XMLSyntaxError:
        return None
    for prop in root.iter(f"{{{_NS_PROPS}}}property"):
        if prop.get("name") == identity.PROPERTY:
            value = prop.find(f"{{{_NS_VT}}}lpwstr")
            return identity.parse(value.text if value is not None else None)
    return None
