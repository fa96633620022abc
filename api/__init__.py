"""JSON blueprints for the mini-program, departments and operators (DESIGN §9)."""
