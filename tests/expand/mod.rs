//! The `toolbox!` macro on a configuration that mixes the flat and the map format: it expands to
//! the same tables the build script makes. (Its compile-fail side is `toolbox-macros/tests/ui`,
//! where the fixtures are compiled with the macro alone.)

mod flights {
    toolbox_macros::toolbox!("flights.yaml");
}

#[test]
fn the_macro_expands_both_formats_into_the_static_tables() {
    let names: Vec<_> = flights::TOOLS.iter().map(|t| t.name).collect();
    assert_eq!(names, ["get_flight", "run_sql"]);
    assert_eq!(flights::TOOLSETS[1].name, "all");
    assert_eq!(
        flights::tools::get_flight::STATEMENTS[0].sql,
        "SELECT id, flight_number, seats, price FROM flights WHERE flight_number = ?"
    );
}
