"""The emulator's own error type and catalogue of API error codes.

Messages are the reference's, word for word: DetachDisk's from today's DetachDisk API page (21 rows,
``reference/ecs-api.md`` §4; ``reference/detach-disk-api.txt`` is an older copy), the others from the ECS
error tables (``reference/ecs-api.md`` §4) and the actions' own API pages.
Where the reference names a code but gives no message, the message here says plainly what is wrong.

This module imports nothing from the rest of ``ecs_detach``: the emulator is an independent implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

RECOMMEND_URL = "https://api.aliyun.com/troubleshoot?q={code}&product=Ecs"


class EmulatorError(Exception):
    """An API error reply: HTTP ``status``, ``code``, ``message``, optional ``Recommend`` and retry hint."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        recommend: str = "",
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.recommend = recommend
        self.retry_after = retry_after

    def to_body(self) -> dict[str, str]:
        """The error body without ``RequestId``/``HostId`` (the gateway adds those)."""
        return {"Code": self.code, "Message": self.message, "Recommend": self.recommend}

    def __repr__(self) -> str:
        return f"EmulatorError({self.status!r}, {self.code!r}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    status: int
    code: str
    message: str

    def error(self, **fmt: object) -> EmulatorError:
        message = self.message.format(**fmt) if fmt else self.message
        return EmulatorError(self.status, self.code, message, recommend=RECOMMEND_URL.format(code=self.code))


def _catalogue(*specs: ErrorSpec) -> dict[str, ErrorSpec]:
    return {spec.code: spec for spec in specs}


# --- DetachDisk: HTTP, code and message exactly as the DetachDisk API page gives them -------------
DETACH_DISK = _catalogue(
    ErrorSpec(
        400, "InvalidParameter", "The input parameter is mandatory for processing this request is empty."
    ),
    ErrorSpec(400, "InvalidRegionId.MalFormed", "The specified RegionId is not valid."),
    ErrorSpec(
        400,
        "InvalidOperation.InstanceTypeNotSupport",
        "The instance type of the specified instance does not support hot detach disk.",
    ),
    ErrorSpec(
        400, "DisksDetachingOnEcsExceeded", "The number of disks detaching on the instance exceeds the limit."
    ),
    ErrorSpec(403, "IncorrectDiskStatus", "The current disk status does not support this operation."),
    ErrorSpec(403, "DiskNotPortable", "The specified disk is not a portable disk."),
    ErrorSpec(403, "InstanceLockedForSecurity", "The instance is locked due to security."),
    ErrorSpec(
        403, "DependencyViolation", "The specified disk has not been attached on the specified instance."
    ),
    ErrorSpec(
        403, "DiskTypeViolation", "The specified disk is a system disk and cannot support the operation."
    ),
    ErrorSpec(
        403, "IncorrectInstanceStatus", "The current status of the resource does not support this operation."
    ),
    ErrorSpec(403, "UserNotInTheWhiteList", "The user is not in disk white list."),
    ErrorSpec(
        403,
        "InvalidInstance.ImageCategory",
        "The image category of the specified instance does not support detaching system disk.",
    ),
    ErrorSpec(
        403, "DeleteWithInstance.Conflict", "Multi attach disk cannot be set to DeleteWithInstance attribute."
    ),
    ErrorSpec(
        403,
        "InvalidOperation.DiskCategoryUnsupported",
        "The DetachDisk operation is not supported for elastic ephemeral disk.",
    ),
    ErrorSpec(
        403,
        "InvalidParameter.DeleteWithInstance",
        "The DeleteWithInstance for the elastic ephemeral disk must be set to true.",
    ),
    ErrorSpec(
        403, "InvalidOperation.DiskDetachingFromThisEcs", "The specified disk is detaching from this ecs."
    ),
    ErrorSpec(404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist."),
    ErrorSpec(404, "InvalidDiskId.NotFound", "The specified disk does not exist."),
    ErrorSpec(404, "InvalidDisk.AlreadyDetached", "The specified disk has been detached."),
    ErrorSpec(
        404,
        "InvalidDiskId.OperationNotSupported",
        "The operation is not supported due to base image not exist.",
    ),
    ErrorSpec(500, "InternalError", "The request processing has failed due to some unknown error."),
)

# --- AttachDisk -----------------------------------------------------------------------------------
ATTACH_DISK = _catalogue(
    ErrorSpec(
        400, "IncorrectInstanceStatus", "The current status of the resource does not support this operation."
    ),
    ErrorSpec(
        400,
        "InvalidOperation.InstanceTypeNotSupport",
        "The instance type of the specified instance does not support hot attach disk.",
    ),
    ErrorSpec(
        400, "InvalidDisk.DiskNotBootable", "The specified disk is a data disk and cannot be a system disk."
    ),
    ErrorSpec(
        400,
        "InvalidInstance.NotOriginInstance",
        "The specified disk can not attached to other instance as system disk.",
    ),
    ErrorSpec(403, "InvalidDevice.InUse", "The specified device is already in use on the instance."),
    ErrorSpec(403, "DiskNotPortable", "The specified disk is not a portable disk."),
    ErrorSpec(403, "InstanceLockedForSecurity", "The instance is locked due to security."),
    ErrorSpec(403, "ResourcesNotInSameZone", "The specified instance and disk are not in the same zone."),
    ErrorSpec(
        403,
        "InvalidInstanceType.NotSupportDiskCategory",
        "The instance type of the specified instance does not support this disk category.",
    ),
    ErrorSpec(
        403,
        "DiskAttachedNumberExceeded",
        "The maximum number of instances to which the disk can be attached has been reached.",
    ),
    ErrorSpec(
        403,
        "InstanceDiskLimitExceeded",
        "The amount of the disk on instance in question reach its limits",
    ),
    ErrorSpec(403, "DiskInArrears", "The specified disk has an overdue payment."),
    ErrorSpec(
        403,
        "InvalidOperation.OtherInstanceUnsupported",
        "The elastic ephemeral disk can only be attached to the instance it was last mounted on, please "
        "check the disk's system tag to get the last associated instance.",
    ),
    ErrorSpec(
        403,
        "IncorrectDiskStatus",
        "The current disk status does not support this operation. The expected disk status is Available.",
    ),
    ErrorSpec(
        403,
        "InvalidOperation.CanNotAttachMultiAttachDiskAsSystemDisk",
        "A multi attach disk cannot be attached as a system disk.",
    ),
    ErrorSpec(
        403, "DeleteWithInstance.Conflict", "Multi attach disk cannot be set to DeleteWithInstance attribute."
    ),
    ErrorSpec(
        403,
        "InvalidParameter.AllEmpty",
        "Password and KeyPairName cannot both be empty when a system disk is attached.",
    ),
    ErrorSpec(404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist."),
    ErrorSpec(404, "InvalidDiskId.NotFound", "The specified disk does not exist."),
)

# --- CreateSnapshot (its API page) -------------------------------------------------------------
CREATE_SNAPSHOT = _catalogue(
    ErrorSpec(404, "InvalidDiskId.NotFound", "The specified DiskId does not exist."),
    ErrorSpec(400, "InvalidSnapshotName.Malformed", "The specified SnapshotName is wrongly formed."),
    ErrorSpec(404, "InvalidDescription.Malformed", "The specified description is wrongly formed."),
    ErrorSpec(
        400,
        "IncorrectInstanceStatus",
        "The current status of the resource does not support this operation.",
    ),
    ErrorSpec(403, "IncorrectDiskStatus.CreatingSnapshot", "A previous snapshot creation is in process."),
    ErrorSpec(403, "InstanceLockedForSecurity", "The disk attached instance is locked due to security."),
    ErrorSpec(
        403,
        "IncorrectDiskStatus.NeverAttached",
        "The specified disk has never been attached to any instance.",
    ),
    ErrorSpec(403, "QuotaExceed.Snapshot", "The snapshot quota exceeds."),
    ErrorSpec(403, "DiskInArrears", "The specified operation is denied as your disk has expired."),
    ErrorSpec(
        400,
        "DiskCategory.OperationNotSupported",
        "The operation is not supported to the specified disk due to its disk category",
    ),
    ErrorSpec(403, "IncorrectDiskStatus", "The current disk status does not support this operation."),
)

# --- StopInstance / StartInstance -----------------------------------------------------------------
_INSTANCE_LOCKED = ErrorSpec(
    403,
    "InstanceLockedForSecurity",
    "The specified operation is denied as your instance is locked for security reasons.",
)
STOP_INSTANCE = _catalogue(
    ErrorSpec(
        403, "IncorrectInstanceStatus", "The current status of the resource does not support this operation."
    ),
    _INSTANCE_LOCKED,
    ErrorSpec(404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist."),
)
START_INSTANCE = _catalogue(
    ErrorSpec(
        403, "IncorrectInstanceStatus", "The current status of the resource does not support this operation."
    ),
    _INSTANCE_LOCKED,
    ErrorSpec(403, "InsufficientBalance", "Your account does not have enough balance."),
    ErrorSpec(403, "InstanceNotReady", "The specified instance is not ready for use."),
    ErrorSpec(400, "InvalidInstance.NotFoundSystemDisk", "The specified instance does not have system disk."),
    ErrorSpec(404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist."),
)

# --- DescribeInstances / DescribeDisks: bad filter values (the API's own error tables) ---------------
_TAG_ERRORS = (
    ErrorSpec(400, "InvalidTag.Mismatch", "The specified Tag.n.Key and Tag.n.Value are not match."),
    ErrorSpec(400, "InvalidTagCount", "The specified tags are beyond the permitted range."),
    ErrorSpec(404, "InvalidLockReason.NotFound", "The specified LockReason is not found"),
)
DESCRIBE_INSTANCES = _catalogue(
    ErrorSpec(404, "InvalidStatus.NotFound", "The specified Status is not found"),
    ErrorSpec(
        404, "InvalidInstanceChargeType.NotFound", "The InstanceChargeType does not exist in our records"
    ),
    ErrorSpec(
        404, "InvalidInternetChargeType.ValueNotSupported", "The specified InternetChargeType is not valid"
    ),
    ErrorSpec(404, "InvalidNetworkType.NotFound", "The specified InstanceNetworkType is not found"),
    *_TAG_ERRORS,
)
DESCRIBE_DISKS = _catalogue(
    ErrorSpec(400, "InvalidDiskType.ValueNotSupported", "The specified disk type is not supported."),
    ErrorSpec(400, "InvalidCategory.ValueNotSupported", "The specified disk category is not supported."),
    ErrorSpec(400, "InvalidStatus.ValueNotSupported", "The specified disk status is not supported."),
    ErrorSpec(403, "InvalidDiskIds.Malformed", "The amount of specified disk Ids exceeds the limit."),
    ErrorSpec(400, "InvalidParameter.DiskIds", "The specified parameter diskIds is not valid."),
    ErrorSpec(404, "InvalidDiskChargeType.NotFound", "The DiskChargeType does not exist in our records"),
    *_TAG_ERRORS,
)

# --- Common / parameter errors --------------------------------------------------------------------
COMMON = _catalogue(
    ErrorSpec(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."),
    ErrorSpec(
        400,
        "MissingParameter",
        'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
    ),
    ErrorSpec(400, "InvalidParameter", 'The specified parameter "{name}" is not valid.'),
    ErrorSpec(400, "InvalidRegionId.MalFormed", "The specified RegionId is not valid"),
    ErrorSpec(404, "InvalidRegionId.NotFound", "The specified RegionId does not exist."),
    ErrorSpec(400, "DryRunOperation", "Request validation has been passed with DryRun flag set."),
    ErrorSpec(404, "InvalidAcceptLanguage.NotFound", "The specified AcceptLanguage is not found."),
    ErrorSpec(404, "InvalidResourceType.NotFound", "The specified ResourceType is not found."),
    ErrorSpec(404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist."),
    ErrorSpec(
        500,
        "InternalError",
        "The request processing has failed due to some unknown error, exception or failure.",
    ),
)

# --- Gateway errors (used by the gateway half; listed here so the whole catalogue lives in one plac
GATEWAY = _catalogue(
    ErrorSpec(400, "Throttling.User", "Request was denied due to user flow control."),
    ErrorSpec(400, "Throttling.Api", "Request was denied due to api flow control."),
    ErrorSpec(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."),
    ErrorSpec(
        400, "IncompleteSignature", "The request signature does not conform to Alibaba Cloud standards."
    ),
    ErrorSpec(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."),
    ErrorSpec(400, "SignatureNonceUsed", "Specified signature nonce was used already."),
    ErrorSpec(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."),
    ErrorSpec(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."),
    ErrorSpec(400, "InvalidSignatureMethod", "Specified signature method is not valid."),
    ErrorSpec(
        403,
        "Forbidden.RAM",
        "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
    ),
    ErrorSpec(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."),
    ErrorSpec(
        500,
        "InternalError",
        "The request processing has failed due to some unknown error, exception or failure.",
    ),
)

ACTION_ERRORS: dict[str, dict[str, ErrorSpec]] = {
    "DetachDisk": DETACH_DISK,
    "AttachDisk": ATTACH_DISK,
    "StopInstance": STOP_INSTANCE,
    "StartInstance": START_INSTANCE,
    "StopInstances": STOP_INSTANCE,
    "StartInstances": START_INSTANCE,
    "DescribeInstances": DESCRIBE_INSTANCES,
    "DescribeDisks": DESCRIBE_DISKS,
    "CreateSnapshot": CREATE_SNAPSHOT,
}


def api_error(action: str, code: str, **fmt: object) -> EmulatorError:
    """The error ``code`` as ``action`` answers it (its own table first, then the common one)."""
    spec = ACTION_ERRORS.get(action, {}).get(code) or COMMON.get(code) or GATEWAY.get(code)
    if spec is None:  # a programming error in the emulator, reported as the API would
        spec = COMMON["InternalError"]
    return spec.error(**fmt)


def missing_parameter(name: str) -> EmulatorError:
    """A required parameter absent or empty, as the gateway words it: ``MissingInstanceId`` (400)."""
    shown = _printable(name)
    return EmulatorError(
        400,
        f"Missing{shown}",
        f"{shown} is mandatory for this action.",
        recommend=RECOMMEND_URL.format(code=f"Missing{shown}"),
    )


def invalid_parameter(name: str) -> EmulatorError:
    return COMMON["InvalidParameter"].error(name=_printable(name))


def _printable(text: str, limit: int = 64) -> str:
    shown = text if len(text) <= limit else text[:limit] + "…"
    return shown.encode("unicode_escape").decode("ascii") if not shown.isprintable() else shown
