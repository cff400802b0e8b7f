INSERT INTO bookings (id, passenger, flight, dept) VALUES
    (1, 'alice', 'UA0001', 'sales'),
    (2, 'alice', 'UA0002', 'sales'),
    (3, 'bob', 'UA0001', 'ops'),
    (4, 'carol@example.com', 'UA0003', 'ops'),
    (5, 'agent-jwt', 'UA0004', 'ops');
