"""HTTP edge: blueprints, auth, request/response models, error mapping."""
