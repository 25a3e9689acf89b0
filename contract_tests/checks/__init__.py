"""The named checks of the kit, registered in ``registry.CHECKS`` in their run order."""
