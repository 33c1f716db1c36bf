"""Operators: their SIP softphone accounts in Asterisk (pushed over ARI)."""

from .accounts import (
    CONFIG_CLASS,
    DEFAULT_CONTEXT,
    DEFAULT_TRANSPORT,
    PUSH_ORDER,
    REALM,
    TECHNOLOGY,
    AccountObject,
    SyncResult,
    account_objects,
    check_name,
    md5_cred,
    push_account,
    remove_account,
    sync_accounts,
)

__all__ = [
    "CONFIG_CLASS",
    "DEFAULT_CONTEXT",
    "DEFAULT_TRANSPORT",
    "PUSH_ORDER",
    "REALM",
    "TECHNOLOGY",
    "AccountObject",
    "SyncResult",
    "account_objects",
    "check_name",
    "md5_cred",
    "push_account",
    "remove_account",
    "sync_accounts",
]
