"""Padded sizes: arrays are padded to a few bucketed lengths so that programs compiled for one
size serve the others (training batches, explain chunks, evaluation blocks)."""


def padded_size(size: int, minimum: int = 16) -> int:
    """The smallest ``2^k`` or ``1.5 * 2^k`` (at least ``minimum``) that holds ``size``."""
    size = max(int(size), minimum)
    power = 1 << (size - 1).bit_length()
    return power * 3 // 4 if power * 3 // 4 >= size else power
