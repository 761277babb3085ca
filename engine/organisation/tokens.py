"""Personal API tokens: created and revoked by their owner (audited), stored only as a SHA-256 hash, and a
fixed-window request counter per token kept in the database, so a limit holds across worker processes."""
import hashlib
import hmac
import secrets
import time

from peewee import Case

from models import ApiToken, User, database

from engine.chain import audit
from engine import clock
from engine import names
from engine.errors import BadInput, InvalidTransition, NotAuthenticated, NotFound, Throttled

SECRET_PREFIX = 'cz_'
PREFIX_LENGTH = len(SECRET_PREFIX) + 6
MAX_ACTIVE_TOKENS = 20
NAME_MAX = 60


def digest(secret):
    return hashlib.sha256(secret.encode('utf-8')).hexdigest()


def _clean_name(name):
    name = (name if isinstance(name, str) else '').strip()
    if not 1 <= len(name) <= NAME_MAX or names.problem(name):
        raise BadInput(f'令牌名称应为1–{NAME_MAX}个字 (token name: 1-{NAME_MAX} characters, no control characters)',
                       {'fields': {'name': ['invalid']}})
    return name


def tokens_of(user):
    return list(ApiToken.select().where(ApiToken.user == user).order_by(ApiToken.revoked_at.is_null(False),
                                                                         ApiToken.id.desc()))


def create_token(user, name):
    """A new token for `user`; returns (token row, secret). The secret is shown once and never stored."""
    name = _clean_name(name)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with database.atomic():
        active = ApiToken.select().where(ApiToken.user == user, ApiToken.revoked_at.is_null()).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise BadInput(f'有效令牌最多 {MAX_ACTIVE_TOKENS} 个，请先吊销不用的令牌 (too many active tokens)')
        token = ApiToken.create(user=user, name=name, token_hash=digest(secret), prefix=secret[:PREFIX_LENGTH],
                                created_at=clock.now())
        audit.append('user', user.id, 'create_api_token', None, None, user, None, None,
                     {'token_id': token.id, 'prefix': token.prefix})
    return token, secret


def revoke_token(user, token_id):
    """Revoke one of the user's own tokens (audited); requests with it are refused from now on."""
    token = ApiToken.get_or_none(ApiToken.id == token_id, ApiToken.user == user)
    if token is None:
        raise NotFound('令牌不存在 (token not found)')
    with database.atomic():
        now = clock.now()
        updated = ApiToken.update(revoked_at=now).where(ApiToken.id == token.id,
                                                        ApiToken.revoked_at.is_null()).execute()
        if updated != 1:
            raise InvalidTransition('该令牌已吊销 (the token is already revoked)')
        audit.append('user', user.id, 'revoke_api_token', None, None, user, None, None,
                     {'token_id': token.id, 'prefix': token.prefix})
    token.revoked_at = now
    return token


def authenticate(secret):
    """The active token (with its user) whose secret this is, or NotAuthenticated."""
    if not secret or len(secret) > 200 or not secret.isascii():
        raise NotAuthenticated('缺少或无效的 API 令牌 (missing or invalid API token)')
    token = (ApiToken.select(ApiToken, User).join(User)
             .where(ApiToken.token_hash == digest(secret)).first())
    if (token is None or not hmac.compare_digest(token.token_hash, digest(secret)) or token.revoked_at is not None
            or not token.user.active or token.user.is_system):
        raise NotAuthenticated('缺少或无效的 API 令牌 (missing or invalid API token)')
    return token


def count_request(token, limit, window_seconds):
    """Count one request against the token's current fixed window (and stamp last use); Throttled past `limit`.

    One UPDATE evaluated by the database, so concurrent workers never lose a count."""
    now = time.time()
    window = int(now) // window_seconds * window_seconds
    with database.atomic():
        (ApiToken.update(rate_count=Case(None, [(ApiToken.rate_window == window, ApiToken.rate_count + 1)], 1),
                         rate_window=window, last_used_at=clock.now())
         .where(ApiToken.id == token.id).execute())
        count = ApiToken.select(ApiToken.rate_count).where(ApiToken.id == token.id).scalar()
    if count > limit:
        raise Throttled(window + window_seconds - now)
    return count
