"""The kernel's own module ("core"): sign-in, the viewer, module switches. Always on."""
