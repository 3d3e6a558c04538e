"""Ed25519 keys for checkpoints: made, read from PEM files, used to sign and to check."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events.checkpoints import Checkpoint

PRIVATE_NAME = "coop-signing.pem"
PUBLIC_NAME = "coop-signing.pub.pem"


class KeyProblem(ValueError):
    """A key file that cannot be used; the message names the file and why."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex characters of SHA-256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    """A private key that signs checkpoints, and the id of its public half."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def create_key_pair(folder: Path) -> tuple[Path, Path]:
    """Write a new key pair into `folder` (made if missing); refuses to replace a key."""
    private_path, public_path = folder / PRIVATE_NAME, folder / PUBLIC_NAME
    for path in (private_path, public_path):
        if path.exists():
            raise KeyProblem(f"{path} already exists; a key is never overwritten")
    folder.mkdir(parents=True, exist_ok=True)
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Created with mode 0600, so the private key is never readable by others, even briefly.
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(private_pem)
    public_path.write_bytes(public_pem)
    return private_path, public_path


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise KeyProblem(f"cannot read the {what} {path}: {error.strerror}") from None


def load_signing_key(path: Path) -> SigningKey:
    """The Ed25519 private key in a PKCS8 PEM file."""
    try:
        key = serialization.load_pem_private_key(_read(path, "signing key"), password=None)
    except (ValueError, TypeError) as error:
        raise KeyProblem(f"{path} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return SigningKey(key)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a SubjectPublicKeyInfo PEM file."""
    try:
        key = serialization.load_pem_public_key(_read(path, "public key"))
    except (ValueError, TypeError) as error:
        raise KeyProblem(f"{path} is not a PEM public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProblem(f"{path} holds a {type(key).__name__}, not an Ed25519 public key")
    return key


def signature_problem(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> str | None:
    """Why the checkpoint's signature does not hold under `public_key`, or None if it does."""
    expected = key_id(public_key)
    if checkpoint.key_id != expected:
        return (
            f"the checkpoint names key {checkpoint.key_id}, but the public key given is"
            f" {expected}: it was signed with another key"
        )
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public_key.verify(signature, checkpoint.message)
    except (binascii.Error, ValueError, InvalidSignature):
        return (
            f"the signature does not verify under key {expected}: the checkpoint was altered"
            " or signed with another key"
        )
    return None
