INSERT INTO rooms (id, hotel, city, price, beds, sea_view) VALUES
    (1, 'Rhine Court', 'Basel', 189.5, 2, 0),
    (2, 'Rhine Court', 'Basel', 129.0, 1, 0),
    (3, 'Old Town Inn', 'Basel', 99.9, 1, 0),
    (4, 'Lakeside', 'Zurich', 240.0, 2, 1),
    (5, 'Lakeside', 'Zurich', 310.0, 3, 1),
    (6, 'Station Hotel', 'Zurich', 150.0, 2, 0),
    (7, 'Bear Pit Lodge', 'Bern', 110.0, 2, 0),
    (8, 'Lac Leman', 'Geneva', 420.0, 2, 1);

INSERT INTO reservations (id, room_id, guest, team, nights, cancelled) VALUES
    (1, 1, 'alice', 'sales', 2, 0),
    (2, 4, 'alice', 'sales', 1, 0),
    (3, 6, 'bob', 'ops', 3, 0),
    (4, 7, 'carol@partner.example', 'ops', 1, 0),
    (5, 8, 'dave', 'sales', 4, 1),
    (6, 2, 'carol@partner.example', 'ops', 2, 0);
