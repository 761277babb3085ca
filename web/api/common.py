"""Small pieces the API blueprints share: path ids, keyset pages, the version a client saw (objects are loaded by
engine.find_visible: 404 alike for missing ones and those the caller may not see)."""
import re

from flask_smorest import Blueprint

from engine import BadInput

from .auth import authenticate
from .schemas import IF_MATCH, MAX_ID, OBJECT_TYPES

OBJECT_TYPE_PATH = f'<any({", ".join(OBJECT_TYPES)}):object_type>'


def blueprint(name, url_prefix, description):
    """An API blueprint: documented in the OpenAPI document, every request authenticated by its token."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix, description=description)
    bp.before_request(authenticate)
    return bp


def path_id(name):
    """A URL segment for an id: 1 … 2^31-1, anything else is 404 before a view runs."""
    return f'<int(min=1, max={MAX_ID}):{name}>'


def page(query, key, args, to_dict):
    """Rows with `key` above args['after'], in key order, at most args['limit'], and the next cursor."""
    if args.get('after') is not None:
        query = query.where(key > args['after'])
    rows = list(query.order_by(key).limit(args['limit'] + 1))
    more = len(rows) > args['limit']
    rows = rows[:args['limit']]
    return {'items': [to_dict(r) for r in rows], 'next_after': rows[-1].id if more else None}


def seen_version(headers, body_version=None):
    """The version the client saw: `If-Match: "7"` (validated by its schema) or a `version` field; they must
    agree when both are sent. None: act on the current version."""
    header = headers.get('if_match')
    version = int(re.fullmatch(IF_MATCH, header).group(2)) if header else None
    if body_version is not None:
        if version is not None and version != body_version:
            raise BadInput('If-Match 与 version 不一致 (If-Match and version disagree)',
                           {'location': 'json', 'fields': {'version': ['differs from If-Match']}})
        version = body_version
    return version


def etag(record):
    return {'ETag': f'"{record.version}"'}
