"""wallet: built in a later issue (see DESIGN.md §2)."""

__all__: list[str] = []
