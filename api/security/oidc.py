"""Bearer tokens from the company's identity provider (OpenID Connect / OAuth2 JWTs).

`OidcVerifier` checks a token issued by ``settings.oidc_issuer``:

- **Keys.** Discovered lazily, on the first token: ``{issuer}/.well-known/openid-configuration``
  (whose ``issuer`` must equal ours) names ``jwks_uri``; the JWKS is kept for
  ``oidc_jwks_ttl_seconds``. A token naming an unknown ``kid`` (the provider rotated its keys)
  triggers one refetch, at most one per ``oidc_jwks_min_refetch_seconds`` whatever the tokens
  say, so made-up key ids cannot flood the provider. A failed refresh keeps the keys held; with
  none held the caller gets `ProviderUnavailableError` (a 503). Nothing touches the network at
  import or construction time; each request to the provider has a timeout and a size limit.
- **Algorithms.** Only ``oidc_algorithms`` (asymmetric: RS*, PS*, ES*), and the key must be of
  the algorithm's type (RSA for RS/PS, EC on the algorithm's curve for ES); ``none`` and HMAC
  never verify, so a public key can never serve as a shared secret. Symmetric (``oct``) keys
  in a JWKS are ignored.
- **Claims.** ``iss`` equals the issuer, ``aud`` contains ``oidc_audience``, ``exp`` and ``iat``
  are present, ``exp``/``nbf``/``iat`` checked with ``oidc_leeway_seconds`` of clock skew.
- **Identity.** The employee id is read from ``oidc_employee_id_claim`` and the groups from
  ``oidc_groups_claim`` (a dotted path reads a nested claim, e.g. ``realm_access.roles``);
  ``oidc_role_groups`` maps groups to the admin roles they grant. Whether that employee exists
  and which store roles they hold is decided by `api.security.bearer`, on every request.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from api.security.tokens import InvalidTokenError
from features.errors import WaypointError
from features.settings import Settings

log = logging.getLogger("waypoint.api.oidc")

DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_DOCUMENT_BYTES = 512 * 1024
"""Largest discovery document or JWKS accepted from the provider."""
MAX_EMPLOYEE_ID_CHARS = 128
MAX_CACHED_KEYS = 64
EC_CURVES = {"ES256": "P-256", "ES384": "P-384"}
LOOPBACK_HOSTS = frozenset({"localhost"})


class OidcConfigurationError(WaypointError):
    """The OIDC settings cannot work (an issuer that is not https, for instance)."""


class KeysNeededError(Exception):
    """`OidcVerifier.verify(offline=True)` would have to ask the provider for its keys."""


class ProviderUnavailableError(Exception):
    """The identity provider's keys cannot be had (unreachable, bad answer) and none are held."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    @property
    def retry_after(self) -> str:
        """``Retry-After`` header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after_s)))


@dataclass(frozen=True)
class ProviderIdentity:
    """Who a verified provider token names: an employee id and the admin roles granted."""

    employee_id: str
    admin_roles: frozenset[str]


@dataclass(frozen=True)
class KeySet:
    """A fetched JWKS: signing keys by ``kid`` (keys without one under ``""``)."""

    keys: Mapping[str, Mapping[str, Any]]
    fetched_at: float


def check_provider_url(url: str, what: str) -> None:
    """https, or http on a loopback address only (a local test provider)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and _is_loopback(host):
        return
    raise OidcConfigurationError(f"{what} must be an https URL (http only on loopback): {url!r}")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim ``path`` names: a top-level claim, else a dotted path into nested objects."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def signing_keys(jwks: Any) -> dict[str, Mapping[str, Any]]:
    """The usable signing keys of a JWKS document (RSA and EC, ``use`` absent or ``sig``)."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise ValueError("the JWKS has no 'keys' list")
    found: dict[str, Mapping[str, Any]] = {}
    for key in jwks["keys"]:
        if not isinstance(key, Mapping) or key.get("kty") not in ("RSA", "EC"):
            continue
        if key.get("use", "sig") != "sig":
            continue
        kid = key.get("kid", "")
        if isinstance(kid, str):
            found.setdefault(kid, key)
    return found


class OidcVerifier:
    """Verifies provider tokens for one issuer (see the module notes); thread-safe."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not settings.oidc_issuer or not settings.oidc_audience:
            raise OidcConfigurationError("OIDC needs WAYPOINT_OIDC_ISSUER and "
                                         "WAYPOINT_OIDC_AUDIENCE")
        check_provider_url(settings.oidc_issuer, "WAYPOINT_OIDC_ISSUER")
        self.issuer = settings.oidc_issuer
        self.audience = settings.oidc_audience
        self.settings = settings
        self.algorithms = frozenset(settings.oidc_algorithms)
        self._clock = clock
        self._transport = transport
        self._lock = threading.Lock()
        self._keyset: KeySet | None = None
        self._last_attempt: float | None = None
        self._last_error = ""
        self._key_objects: dict[tuple[int, str], tuple[Mapping[str, Any], Any]] = {}
        self.fetches = 0
        """JWKS refreshes attempted (for the operator's logs and the tests)."""
        self.jwks_uri: str | None = None
        """Where the keys came from (set by the first successful discovery)."""
        log.info("accepting bearer tokens from the identity provider %s (audience %r); its "
                 "keys are fetched on the first such token", self.issuer, self.audience)

    # ------------------------------------------------------------------ tokens

    def verify(self, token: str, *, offline: bool = False) -> ProviderIdentity:
        """The identity a valid token names; `InvalidTokenError` (401) for a bad token,
        `ProviderUnavailableError` (503) when the provider's keys cannot be had. ``offline``:
        raise `KeysNeededError` instead of fetching keys (the event loop must not block)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"malformed token: {exc}") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise InvalidTokenError(f"the algorithm {alg!r} is not accepted "
                                    f"(accepted: {', '.join(sorted(self.algorithms))})")
        kid = header.get("kid", "")
        if not isinstance(kid, str):
            raise InvalidTokenError("the token's key id is not a string")
        key = self._public_key(self._jwk_for(kid, offline), alg)
        try:
            claims = jwt.decode(
                token, key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                leeway=self.settings.oidc_leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud"]})
        except (jwt.PyJWTError, TypeError, ValueError, OverflowError) as exc:
            raise InvalidTokenError(str(exc)) from exc
        return self.identity(claims)

    def identity(self, claims: Mapping[str, Any]) -> ProviderIdentity:
        claim = self.settings.oidc_employee_id_claim
        employee_id = claim_at(claims, claim)
        if (not isinstance(employee_id, str) or not employee_id
                or len(employee_id) > MAX_EMPLOYEE_ID_CHARS):
            raise InvalidTokenError(f"the token has no employee id in its {claim!r} claim")
        groups = claim_at(claims, self.settings.oidc_groups_claim)
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list):
            groups = []
        table = self.settings.oidc_role_groups
        roles = frozenset(table[g] for g in groups if isinstance(g, str) and g in table)
        return ProviderIdentity(employee_id=employee_id, admin_roles=roles)

    def _jwk_for(self, kid: str, offline: bool) -> Mapping[str, Any]:
        keys = self._keys(kid, offline)
        if kid in keys:
            return keys[kid]
        if not kid and len(keys) == 1:          # no kid in the token, one key published
            return next(iter(keys.values()))
        if not kid:
            raise InvalidTokenError("the token names no key id and the provider has several")
        raise InvalidTokenError(f"unknown key id {kid!r}: not among the provider's keys")

    def _public_key(self, jwk: Mapping[str, Any], alg: str) -> Any:
        """The key object of ``jwk`` for ``alg`` (kept per JWK and algorithm: parsing an RSA
        key costs more than checking a signature with it)."""
        cache_key = (id(jwk), alg)
        cached = self._key_objects.get(cache_key)
        if cached is not None and cached[0] is jwk:
            return cached[1]
        key = self._parse_key(jwk, alg)
        if len(self._key_objects) >= MAX_CACHED_KEYS:
            self._key_objects.clear()
        self._key_objects[cache_key] = (jwk, key)
        return key

    @staticmethod
    def _parse_key(jwk: Mapping[str, Any], alg: str) -> Any:
        declared = jwk.get("alg")
        if declared is not None and declared != alg:
            raise InvalidTokenError(f"the key is for {declared!r}, the token says {alg!r}")
        try:
            if alg.startswith(("RS", "PS")) and jwk.get("kty") == "RSA":
                return RSAAlgorithm.from_jwk(dict(jwk))
            if alg in EC_CURVES and jwk.get("kty") == "EC" and jwk.get("crv") == EC_CURVES[alg]:
                return ECAlgorithm.from_jwk(dict(jwk))
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidTokenError(f"the provider's key is not usable: {exc}") from exc
        raise InvalidTokenError(f"the key named by the token is not a key for {alg!r}")

    # ------------------------------------------------------------------ keys

    def refresh(self) -> Mapping[str, Mapping[str, Any]]:
        """Fetch the provider's keys now, whatever is cached (an operator's check); raises
        `ProviderUnavailableError`."""
        with self._lock:
            now = self._clock()
            self._last_attempt = now
            self.fetches += 1
            keyset = KeySet(keys=self._fetch_keys(), fetched_at=now)
            self._keyset = keyset
            return keyset.keys

    def _keys(self, kid: str, offline: bool = False) -> Mapping[str, Mapping[str, Any]]:
        """The provider's keys: the cached set while fresh and knowing ``kid``; else one
        refresh, unless the last attempt is younger than the minimum refetch interval."""
        keyset = self._keyset
        if keyset is not None and self._fresh(keyset) and (kid in keyset.keys or not kid):
            return keyset.keys
        with self._lock:
            keyset = self._keyset          # another thread may have refreshed meanwhile
            if keyset is not None and self._fresh(keyset) and (kid in keyset.keys or not kid):
                return keyset.keys
            now = self._clock()
            wait = self.settings.oidc_jwks_min_refetch_seconds
            if self._last_attempt is not None and now - self._last_attempt < wait:
                if keyset is None:
                    raise ProviderUnavailableError(
                        f"the identity provider is unavailable: {self._last_error}",
                        retry_after_s=wait - (now - self._last_attempt))
                return keyset.keys
            if offline:
                raise KeysNeededError(kid)
            self._last_attempt = now
            self.fetches += 1
            try:
                fresh = KeySet(keys=self._fetch_keys(), fetched_at=now)
            except ProviderUnavailableError as exc:
                self._last_error = str(exc)
                if keyset is None:
                    raise ProviderUnavailableError(
                        f"the identity provider is unavailable: {exc}", exc.retry_after_s
                    ) from exc
                log.warning("keeping the identity provider's keys fetched earlier: %s", exc)
                return keyset.keys
            self._keyset = fresh
            return fresh.keys

    def _fresh(self, keyset: KeySet) -> bool:
        return self._clock() - keyset.fetched_at < self.settings.oidc_jwks_ttl_seconds

    def _fetch_keys(self) -> dict[str, Mapping[str, Any]]:
        wait = self.settings.oidc_jwks_min_refetch_seconds
        discovery_url = self.issuer.rstrip("/") + DISCOVERY_PATH
        timeout = httpx.Timeout(self.settings.oidc_http_timeout_seconds)
        with httpx.Client(timeout=timeout, follow_redirects=False,
                          transport=self._transport) as client:
            discovery = self._get_json(client, discovery_url, wait)
            if not isinstance(discovery, Mapping) or discovery.get("issuer") != self.issuer:
                raise ProviderUnavailableError(
                    f"{discovery_url} does not name the issuer {self.issuer!r}", wait)
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise ProviderUnavailableError(f"{discovery_url} names no jwks_uri", wait)
            try:
                check_provider_url(jwks_uri, "the provider's jwks_uri")
            except OidcConfigurationError as exc:
                raise ProviderUnavailableError(str(exc), wait) from exc
            try:
                keys = signing_keys(self._get_json(client, jwks_uri, wait))
            except ValueError as exc:
                raise ProviderUnavailableError(f"{jwks_uri}: {exc}", wait) from exc
        self.jwks_uri = jwks_uri
        log.info("fetched %d signing keys from %s", len(keys), jwks_uri)
        return keys

    @staticmethod
    def _get_json(client: httpx.Client, url: str, wait: float) -> Any:
        try:
            with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise ProviderUnavailableError(
                        f"{url} answered HTTP {response.status_code}", wait)
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise ProviderUnavailableError(
                            f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes", wait)
        except httpx.HTTPError as exc:
            raise ProviderUnavailableError(f"{url} is unreachable: {exc}", wait) from exc
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProviderUnavailableError(f"{url} did not send JSON", wait) from exc
