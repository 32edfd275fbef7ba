"""The memory bounds of the service (rostro.service.memory): the pixel budget holds and is fair,
and the allocator calls are safe on any platform. No timing: behaviour only."""

from __future__ import annotations

import anyio

from rostro.service.memory import PixelBudget, Trimmer, release_memory, tune_allocator

LARGE = 4096 * 4096


def test_pixel_budget_bounds_the_pixels_inside():
    """Ten 4096x4096 images against a budget of two: never more than two inside, every one
    served, small images wait their turn behind the queue (first come, first served)."""
    budget = PixelBudget(2 * LARGE)
    inside, most, order = [0], [0], []

    async def image(name: str, pixels: int) -> None:
        async with budget.hold(pixels):
            inside[0] += pixels
            most[0] = max(most[0], inside[0])
            order.append(name)
            await anyio.sleep(0.01)
            inside[0] -= pixels

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for number in range(10):
                group.start_soon(image, f"large-{number}", LARGE)
                await anyio.sleep(0)
            group.start_soon(image, "small", 640 * 480)

    anyio.run(main)
    assert most[0] <= 2 * LARGE
    assert len(order) == 11 and order.index("small") > order.index("large-1")
    assert budget.free == budget.total


def test_image_larger_than_the_budget_goes_alone():
    budget = PixelBudget(LARGE)

    async def main() -> None:
        async with budget.hold(10 * LARGE):
            assert budget.free == 0

    anyio.run(main)
    assert budget.free == budget.total


def test_cancelled_waiter_gives_its_place_back():
    budget = PixelBudget(LARGE)

    async def main() -> None:
        async with budget.hold(LARGE):
            with anyio.move_on_after(0.05):
                async with budget.hold(LARGE):
                    raise AssertionError("must wait")
        async with budget.hold(LARGE):
            pass

    anyio.run(main)
    assert budget.free == budget.total


def test_trimmer_trims_after_a_burst_only():
    trimmer = Trimmer(after_pixels=LARGE)
    assert trimmer.run(100, lambda: "small") == "small" and trimmer.trims == 0
    assert trimmer.run(LARGE, lambda: "large") == "large" and trimmer.trims == 1


def test_allocator_calls_are_safe():
    assert isinstance(tune_allocator(), bool)
    assert isinstance(release_memory(), bool)
