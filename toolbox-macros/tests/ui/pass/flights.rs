toolbox_macros::toolbox!("flights.yaml");

fn main() {
    assert_eq!(TOOLS.iter().map(|t| t.name).collect::<Vec<_>>(), ["get_flight", "run_sql"]);
    assert_eq!(TOOLSETS[1].name, "all");
    assert_eq!(tools::get_flight::STATEMENTS[0].sql, "SELECT id, flight_number, seats, price FROM flights WHERE flight_number = ?");
}
