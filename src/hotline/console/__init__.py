"""The operators' console: login, the screen pop while a call rings, the case form, the
supervisor's floor and the elder records, served as HTML by the service itself."""
