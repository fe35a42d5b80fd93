"""Flask glue shared by the blueprints: the app context, auth, errors, push."""
