"""DeskOS domain and data access. Never imports functions/, infra/ or Lambda event types."""
