"""Field service: technicians, work orders, work-order rules and the ticket → work order automation."""
