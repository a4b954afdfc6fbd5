"""The client's errors: one typed tree, each error one readable line with a remedy an operator understands.

```
EcsError                              root: anything the client raises on purpose
├── ApiError(code, message, request_id, http_status)   the API answered with an error
│   ├── NotFoundError                 the instance, disk or region does not exist
│   ├── IncorrectStateError           the resource is not in a state that allows the operation
│   ├── LockedError                   a security or financial lock; nothing to fix here
│   ├── ThrottledError                flow control; retried with backoff, raised when retries run out
│   ├── AuthError                     signature, key, clock, token or RAM permission
│   ├── ServerError                   5xx: the service failed
│   └── InvalidParameterError         the request itself was wrong
├── TransportError                    no answer (connection, timeout); ``outcome_unknown`` for a mutation
├── ReadOnlyError                     a mutation refused in read-only mode, before any request was built
└── CredentialsError                  missing or broken credentials configuration
```

``error_for(code, message, ...)`` picks the class for a code in one place; ``remedy_for(code)`` gives the
one-line advice. ``str(error)`` is a single line and never contains a secret (the client scrubs messages
before raising). A remedy that names a setting (the region, the profile, the endpoint, the demo) is kept as a
:class:`~ecs_detach.wording.Worded` too (``remedy_worded``): ``remedy`` is the command line's words, and
``remedy_in(words)`` / ``message_in(words)`` give another face's (the TUI has keys, not flags).
This module imports only the standard library and ``ecs_detach.wording`` (itself standard library only).
"""

from __future__ import annotations

from ecs_detach.wording import CLI_WORDS, Worded, Words, worded

__all__ = [
    "ApiError",
    "AuthError",
    "CredentialsError",
    "EcsError",
    "IncorrectStateError",
    "InvalidParameterError",
    "LockedError",
    "NotFoundError",
    "ReadOnlyError",
    "ServerError",
    "ThrottledError",
    "TransportError",
    "error_for",
    "kind_for",
    "remedy_for",
    "remedy_worded_for",
]


def _one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class EcsError(Exception):
    """Root of every error the client raises on purpose."""

    remedy: str = ""
    # `remedy` as data, when it names a setting (`remedy` itself is the CLI's words).
    remedy_worded: Worded | None = None

    def __init__(self, message: str, *, remedy: str | Worded = "", limit: int = 400) -> None:
        super().__init__(_one_line(message, limit))
        if isinstance(remedy, Worded):
            self.remedy_worded = remedy
            self.remedy = remedy.say(CLI_WORDS)
        elif remedy:
            self.remedy = remedy

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def message_in(self, words: Words) -> str:
        """The message with any setting it names worded as a face names it (most messages name none)."""
        return self.message

    def remedy_in(self, words: Words) -> str:
        """The remedy with any setting it names worded as a face names it (the CLI's flag, the TUI's key)."""
        return self.remedy_worded.say(words) if self.remedy_worded is not None else self.remedy

    def __str__(self) -> str:
        return self.message


class ApiError(EcsError):
    """The API answered with an error: ``code``, ``message``, ``request_id``, ``http_status``.

    >>> str(ApiError("InvalidDiskId.NotFound", "The specified disk does not exist.", "R-1", 404))
    'InvalidDiskId.NotFound: The specified disk does not exist. (HTTP 404, request R-1)'
    """

    kind = "Api"

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str = "",
        http_status: int = 0,
        *,
        action: str = "",
        retry_after: float | None = None,
        recommend: str = "",
    ) -> None:
        self.code = code or "Unknown"
        self.api_message = _one_line(message or "")
        self.request_id = request_id or ""
        self.http_status = int(http_status or 0)
        self.action = action
        self.retry_after = retry_after
        self.recommend = recommend
        detail = [f"HTTP {self.http_status}"] if self.http_status else []
        if self.request_id:
            detail.append(f"request {self.request_id}")
        prefix = f"{action} failed: " if action else ""
        text = f"{prefix}{self.code}: {self.api_message or 'no message'}"
        if detail:
            text += f" ({', '.join(detail)})"
        super().__init__(text, remedy=remedy_worded_for(self.code, self.http_status, action=action))

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_api_error,
            (type(self), self.code, self.api_message, self.request_id, self.http_status, self.action),
        )


def _rebuild_api_error(
    cls: type[ApiError], code: str, message: str, request_id: str, status: int, action: str
) -> ApiError:
    return cls(code, message, request_id, status, action=action)


class NotFoundError(ApiError):
    """The instance, disk or region named does not exist (in this region)."""

    kind = "NotFound"


class IncorrectStateError(ApiError):
    """The resource's current state does not allow the operation (often fixable: stop, wait, retry)."""

    kind = "IncorrectState"


class LockedError(ApiError):
    """A security or financial lock refuses the operation; this toolkit offers no way around it."""

    kind = "Locked"


class ThrottledError(ApiError):
    """The API's flow control refused the request; retried with backoff until the policy gives up."""

    kind = "Throttled"


class AuthError(ApiError):
    """The signature, access key, clock, token or RAM permissions were refused."""

    kind = "Auth"


class ServerError(ApiError):
    """The service failed (5xx). For a mutation, read the resource before trying again."""

    kind = "Server"


class InvalidParameterError(ApiError):
    """The request itself was wrong (a missing or malformed parameter)."""

    kind = "InvalidParameter"


class TransportError(EcsError):
    """No answer from the endpoint (connection refused, reset, timeout).

    ``outcome_unknown`` is true for a mutation: the request may or may not have been applied, so the caller
    must read the resource's state before doing anything else (it is never re-sent blindly).
    """

    kind = "Transport"

    def __init__(
        self, message: str, *, action: str = "", endpoint: str = "", outcome_unknown: bool = False
    ) -> None:
        self.action = action
        self.endpoint = endpoint
        self.outcome_unknown = outcome_unknown
        remedy: str | Worded
        if outcome_unknown:
            remedy = (
                f"The outcome of {action or 'the call'} is unknown: read the resource's current state "
                "before retrying (ecs-detach reconciles this for you)."
            )
        else:
            remedy = worded(
                "Check the network, the endpoint ({endpoint}) and any proxy settings, then try again."
            )
        super().__init__(message, remedy=remedy)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_transport_error, (self.message, self.action, self.endpoint, self.outcome_unknown))


def _rebuild_transport_error(message: str, action: str, endpoint: str, unknown: bool) -> TransportError:
    return TransportError(message, action=action, endpoint=endpoint, outcome_unknown=unknown)


class ReadOnlyError(EcsError):
    """A mutating action was refused in read-only mode, before any request was built."""

    kind = "ReadOnly"

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(
            f"read-only mode: {action} was refused before anything was sent",
            remedy=worded("{writes} (a protected profile: arm writes by typing the profile name)."),
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (ReadOnlyError, (self.action,))


class CredentialsError(EcsError):
    """Missing or broken credentials: one line that says what was wrong, then how to configure them.

    ``problem`` is the first half alone (what was wrong).
    """

    kind = "Credentials"

    def __init__(self, problem: str) -> None:
        self.problem = _one_line(problem, 600).rstrip(". ")
        super().__init__(
            f"{self.problem}. {CREDENTIALS_HOWTO}",
            remedy=worded("Configure credentials as above, or try everything without an account: {demo}."),
            limit=1200,
        )

    def message_in(self, words: Words) -> str:
        return _one_line(f"{self.problem}. {_HOWTO.say(words)}", 1200)

    def __reduce__(self) -> tuple[object, ...]:
        return (CredentialsError, (self.problem,))


_HOWTO = worded(
    "To configure credentials, set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or add a "
    "profile with `aliyun configure` (~/.aliyun/config.json) or to ~/.alibabacloud/credentials.ini and pick "
    "it with {profile}; or try everything without an account: {demo}."
)
CREDENTIALS_HOWTO = _HOWTO.say(CLI_WORDS)

# --- code → kind --------------------------------------------------------------------------------------------

_KIND_BY_CODE: dict[str, type[ApiError]] = {}


def _register(kind: type[ApiError], *codes: str) -> None:
    for code in codes:
        _KIND_BY_CODE[code] = kind


_register(
    NotFoundError,
    "InvalidInstanceId.NotFound",
    "InvalidDiskId.NotFound",
    "InvalidRegionId.NotFound",
    "InvalidApi.NotFound",
    "InvalidAction.NotFound",
)
_register(
    IncorrectStateError,
    "IncorrectInstanceStatus",
    "IncorrectDiskStatus",
    "InvalidDisk.AlreadyDetached",
    "DependencyViolation",
    "InvalidOperation.DiskDetachingFromThisEcs",
    "DiskNotPortable",
    "DiskTypeViolation",
    "InvalidInstance.ImageCategory",
    "InvalidOperation.InstanceTypeNotSupport",
    "DisksDetachingOnEcsExceeded",
    "InvalidOperation.DiskCategoryUnsupported",
    "InvalidDiskId.OperationNotSupported",
    "InvalidDiskId.Released",
    "OperationConflict",
    "OperationConflict.DisksAttachingParallellyExceed",
    "InvalidDisk.InUse",
    "InvalidDevice.InUse",
    "InstanceDiskLimitExceeded",
    "DiskAttachedNumberExceeded",
    "ResourcesNotInSameZone",
    "InvalidDisk.DiskNotBootable",
    "InvalidInstance.NotOriginInstance",
    "InvalidInstance.NotFoundSystemDisk",
    "InstanceNotReady",
    "OperationDenied.NoStock",
    "DiskCategory.OperationNotSupported",
    "InvalidInstanceType.NotSupportDiskCategory",
    "InvalidOperation.CanNotAttachMultiAttachDiskAsSystemDisk",
    "InvalidInstanceId.NotSupport",
    "DiskError",
)
_register(
    LockedError,
    "InstanceLockedForSecurity",
    "InstanceExpiredOrInArrears",
    "InstanceExpired",
    "DiskInArrears",
    "InsufficientBalance",
)
_register(ThrottledError, "Throttling", "Throttling.User", "Throttling.Api", "Throttling.Resource")
_register(
    AuthError,
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId.Inactive",
    "Forbidden.AccessKeyDisabled",
    "SignatureNonceUsed",
    "InvalidTimeStamp.Expired",
    "InvalidTimeStamp.Format",
    "InvalidSignatureMethod",
    "Forbidden",
    "Forbidden.RAM",
    "Forbidden.Unauthorized",
    "Forbidden.SubUser",
    "Forbidden.RiskControl",
    "InvalidSecurityToken.Expired",
    "InvalidSecurityToken.MismatchWithAccessKey",
    "InvalidSecurityToken.Malformed",
    "InvalidCredentials",
    "UserNotInTheWhiteList",
    "Unauthorized.EmptyRegion",
)
_register(
    ServerError,
    "InternalError",
    "UnknownError",
    "ServiceUnavailable",
    "ServiceUnavailable.RegionMaintaining",
    "LimitedOperation.ServiceUnavailable",
)
_register(
    InvalidParameterError,
    "InvalidParameter",
    "MissingParameter",
    "InvalidRegionId.MalFormed",
    "DeleteWithInstance.Conflict",
    "InvalidParameter.DeleteWithInstance",
    "InvalidParameter.AllEmpty",
    "InstanceType.ParameterMismatch",
    "DependencyViolation.WindowsInstance",
    "UnsupportedHTTPMethod",
    "InvalidAcceptLanguage.NotFound",
    "InvalidResourceType.NotFound",
    "DryRunOperation",
)
# A filter value the API does not know (DescribeInstances / DescribeDisks): a typo, not a missing object.
_register(
    InvalidParameterError,
    "InvalidStatus.NotFound",
    "InvalidStatus.ValueNotSupported",
    "InvalidDiskType.ValueNotSupported",
    "InvalidCategory.ValueNotSupported",
    "InvalidDiskIds.Malformed",
    "InvalidDiskChargeType.NotFound",
    "InvalidInstanceChargeType.NotFound",
    "InvalidInternetChargeType.ValueNotSupported",
    "InvalidNetworkType.NotFound",
    "InvalidLockReason.NotFound",
    "InvalidTagCount",
    "InvalidTag.Mismatch",
)


def kind_for(code: str, http_status: int = 0) -> type[ApiError]:
    """The error class for an API code; unknown codes fall back on their prefix, then on the HTTP status."""
    if code in _KIND_BY_CODE:
        return _KIND_BY_CODE[code]
    if code.startswith("Throttling"):
        return ThrottledError
    if code.startswith(("Forbidden", "InvalidAccessKeyId", "InvalidSecurityToken", "InvalidTimeStamp")):
        return AuthError
    if code.startswith(("InvalidParameter", "Missing")):
        return InvalidParameterError
    if code.endswith(".NotFound"):
        return NotFoundError
    if code.startswith(("IncorrectInstanceStatus", "IncorrectDiskStatus")):
        return IncorrectStateError
    if http_status == 429:
        return ThrottledError
    if http_status >= 500:
        return ServerError
    if http_status in (401,):
        return AuthError
    if http_status == 404:
        return NotFoundError
    if http_status == 400:
        return InvalidParameterError
    return ApiError


def error_for(
    code: str,
    message: str,
    request_id: str = "",
    http_status: int = 0,
    *,
    action: str = "",
    retry_after: float | None = None,
    recommend: str = "",
) -> ApiError:
    """Build the typed error for an API error reply (the one place code → class is decided)."""
    cls = kind_for(code, http_status)
    return cls(
        code, message, request_id, http_status, action=action, retry_after=retry_after, recommend=recommend
    )


# --- code → one-line remedy ------------------------------------------------------------

_REMEDIES: dict[str, str] = {
    # DetachDisk decision table (design.md), in its order.
    "InvalidParameter": "A required parameter (DiskId or InstanceId) was missing or empty: pass both ids.",
    "InvalidRegionId.MalFormed": ("The region id is not valid: {real_region}."),
    "InvalidInstanceId.NotFound": "No such instance in this region: check the id and the region ({region}).",
    "InvalidDiskId.NotFound": "No such disk in this region: check the id and the region ({region}).",
    "InstanceLockedForSecurity": (
        "The instance is locked for security reasons; nothing can change it until Alibaba Cloud lifts the"
        " lock (see the instance's OperationLocks, open a ticket)."
    ),
    "DeleteWithInstance.Conflict": (
        "A multi-attach disk cannot take DeleteWithInstance: detach it without that option."
    ),
    "InvalidDisk.AlreadyDetached": "The disk is already detached (Available): there is nothing to do.",
    "DependencyViolation": (
        "The disk is not attached to that instance: check which instance it is attached to."
    ),
    "InvalidOperation.DiskDetachingFromThisEcs": (
        "The disk is already detaching from this instance: wait for it to become Available."
    ),
    "DiskNotPortable": (
        "The disk is not portable: a local disk can never be detached; a subscription data disk only after "
        "converting it to pay-as-you-go (ModifyDiskChargeType)."
    ),
    "UserNotInTheWhiteList": (
        "Your account is not on the whitelist this disk needs: ask Alibaba Cloud support."
    ),
    "IncorrectDiskStatus": (
        "The disk is not In_use (or has a financial lock): wait for Attaching to finish, or settle the "
        "account."
    ),
    "DiskTypeViolation": "This instance type cannot detach its system disk: there is no way around it.",
    "IncorrectInstanceStatus": (
        "The instance is in the wrong state: stop it first for a system disk (or a type that cannot hot-"
        "detach), or wait for Starting/Stopping to settle."
    ),
    "InvalidInstance.ImageCategory": (
        "The instance's image was deleted, so its system disk cannot be detached."
    ),
    "InvalidOperation.InstanceTypeNotSupport": (
        "This instance type cannot hot-detach disks: stop the instance, detach, then start it again."
    ),
    "DisksDetachingOnEcsExceeded": (
        "Too many disks are detaching from this instance at once: wait for one to finish, then retry."
    ),
    # Other DetachDisk / AttachDisk / Start / Stop codes.
    "InvalidOperation.DiskCategoryUnsupported": "DetachDisk does not support elastic ephemeral disks.",
    "InvalidParameter.DeleteWithInstance": "An elastic ephemeral disk must keep DeleteWithInstance=true.",
    "InvalidDiskId.OperationNotSupported": (
        "The disk's base image no longer exists, so this is not supported."
    ),
    "InvalidDiskId.Released": "The disk has been released.",
    "InvalidDisk.InUse": "The disk is attached somewhere: detach it before attaching it elsewhere.",
    "InvalidDevice.InUse": "That device name is taken on the instance: let the API choose the device.",
    "InstanceDiskLimitExceeded": "The instance has as many disks as it can take: detach one first.",
    "DiskAttachedNumberExceeded": "The disk is attached to as many instances as it can be.",
    "ResourcesNotInSameZone": (
        "The disk and the instance are in different zones: pick an instance in the disk's zone."
    ),
    "InvalidDisk.DiskNotBootable": "This disk cannot be attached as a system disk.",
    "InvalidInstance.NotOriginInstance": (
        "A system disk can only be re-attached to the instance it came from."
    ),
    "InvalidParameter.AllEmpty": "Attaching a system disk needs a Password or a KeyPairName.",
    "DependencyViolation.WindowsInstance": (
        "Windows instances cannot use a key pair: give a password instead."
    ),
    "InvalidInstance.NotFoundSystemDisk": (
        "The instance has no system disk: attach one (Bootable) before starting it."
    ),
    "InstanceType.ParameterMismatch": "Instances with local storage need ConfirmStop=true to stop.",
    "InstanceExpiredOrInArrears": (
        "The instance has expired or the account is in arrears: renew or top up first."
    ),
    "InstanceExpired": "The instance has expired: renew it first.",
    "DiskInArrears": "The disk is in arrears: settle the account first.",
    "InsufficientBalance": "The account balance is insufficient: top up first.",
    "InstanceNotReady": "The instance is not ready: wait a moment and retry.",
    "OperationDenied.NoStock": (
        "No stock in this zone right now: retry later (economical-mode stops can hit this)."
    ),
    "OperationConflict": "Another operation on this resource is in progress: wait for it, then retry.",
    "OperationConflict.DisksAttachingParallellyExceed": (
        "Too many disks are attaching at once: wait, then retry."
    ),
    "InvalidInstanceId.NotSupport": "This instance does not support that stop mode: use the standard mode.",
    "DiskError": "The instance reports a disk error: check the instance's disks in the console.",
    # Gateway errors (ecs-api.md §4).
    "Throttling": (
        "The API is throttling requests: wait a little and retry (ecs-detach backs off automatically)."
    ),
    "Throttling.User": "Your account hit its request rate limit: wait a little and retry.",
    "Throttling.Api": "This API hit its rate limit: wait a little and retry.",
    "SignatureDoesNotMatch": (
        "The signature was refused: the AccessKey secret is probably wrong; re-check your credentials."
    ),
    "IncompleteSignature": "The request signature was incomplete: re-check your credentials configuration.",
    "InvalidAccessKeyId.NotFound": "The AccessKey ID is unknown: re-check your credentials ({profile}).",
    "InvalidAccessKeyId.Inactive": (
        "The AccessKey is disabled: enable it or use another key in the RAM console."
    ),
    "Forbidden.AccessKeyDisabled": (
        "The AccessKey is disabled: enable it or use another key in the RAM console."
    ),
    "SignatureNonceUsed": "A request nonce was reused: retry (each attempt uses a fresh nonce).",
    "InvalidTimeStamp.Expired": (
        "The request time is off by more than 15 minutes: fix this machine's clock (NTP)."
    ),
    "InvalidTimeStamp.Format": "The request timestamp was malformed: fix this machine's clock settings.",
    "InvalidSignatureMethod": "The signature method was refused: use the default (V3) signature.",
    "Forbidden": "Not authorized: grant {permission} to your RAM user or role.",
    "Forbidden.RAM": (
        "Your RAM user or role lacks permission for this action: ask an administrator for {permission} on"
        " these resources."
    ),
    "Forbidden.Unauthorized": "Not authorized for this resource: check your RAM policies.",
    "Forbidden.SubUser": "This sub-user is not authorized: ask the account owner for the permission.",
    "Forbidden.RiskControl": "Refused by risk control: confirm the account in the console, then retry.",
    "InvalidSecurityToken.Expired": "The STS token has expired: refresh your temporary credentials.",
    "InvalidCredentials": "No usable credentials: {configure_credentials}.",
    "Unauthorized.EmptyRegion": "The account has no available region for this resource type.",
    "MissingParameter": "A required parameter was missing: this is a bug in the caller; report it.",
    "InvalidApi.NotFound": "The API action is not known to this endpoint: {check_endpoint}.",
    "InvalidAction.NotFound": "The API action is not known to this endpoint: {check_endpoint}.",
    "UnsupportedHTTPMethod": "The endpoint refused the HTTP method: {check_endpoint}.",
    "DryRunOperation": "The dry run passed: the real call would be accepted.",
    "InternalError": (
        "The service failed internally: for a change, read the resource's state before retrying."
    ),
    "UnknownError": "The service failed: retry later; for a change, read the resource's state first.",
    "ServiceUnavailable": "The service is temporarily unavailable: retry in a moment.",
    "ServiceUnavailable.RegionMaintaining": "The region is under maintenance: retry later.",
    "LimitedOperation.ServiceUnavailable": "The operation is temporarily limited: retry later.",
    "InvalidRegionId.NotFound": "No such region: list regions and pick one ({region}).",
}

_REMEDY_BY_KIND: dict[type[ApiError], str] = {
    NotFoundError: "Check the id and the region ({region}).",
    IncorrectStateError: "The resource's state does not allow this now: check its status, fix it or wait.",
    LockedError: "The resource is locked: nothing can change it until the lock is lifted.",
    ThrottledError: "Requests are being throttled: wait a little and retry.",
    AuthError: "Check your credentials and RAM permissions ({profile}).",
    ServerError: "The service failed: retry later; for a change, read the resource's state first.",
    InvalidParameterError: "The request was invalid: check the ids and options given.",
    ApiError: "See the API message; check the resource in the console.",
}


def remedy_for(code: str, http_status: int = 0, *, action: str = "") -> str:
    """One line telling an operator what to do about an API error code (`action`: the call refused, which
    names the RAM permission to grant), in the command line's words."""
    return remedy_worded_for(code, http_status, action=action).say(CLI_WORDS)


def remedy_worded_for(code: str, http_status: int = 0, *, action: str = "") -> Worded:
    """`remedy_for`'s sentence as data: each face names the settings it mentions (region, profile, ...)."""
    template = _REMEDIES.get(code) or _REMEDY_BY_KIND[kind_for(code, http_status)]
    permission = f"ecs:{action}" if action else "the ecs: permission of the refused call (the error names it)"
    return worded(template, permission=permission)
