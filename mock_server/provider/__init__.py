"""The provider dialect, /v2/labels...: its routes and its instance_id + access_token auth."""
