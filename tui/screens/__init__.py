"""The modal and full screens of the app."""
