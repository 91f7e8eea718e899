//! The simulated estate behaves like real machines: sites answer with their page, a cut
//! host's servers stop answering, a degraded link slows and fails requests, and a partitioned
//! probe source address loses its connections while the other location still gets through.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use demo::estate::{Estate, HostCondition};
use tokio::io::AsyncReadExt;

fn catalog() -> domain::config::Catalog {
    server::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/humanoid.toml"))
        .expect("catalog")
}

fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().ok())
        .timeout(Duration::from_millis(1500))
        .build()
        .expect("client")
}

#[tokio::test]
async fn every_monitored_service_gets_a_loopback_server_and_the_catalog_points_at_it() {
    let catalog = catalog();
    let estate = Estate::start(&catalog).await.expect("estate");
    let demo = estate.rewrite(&catalog);
    let frandroid = demo
        .services
        .iter()
        .find(|s| s.id.as_str() == "frandroid")
        .expect("frandroid");
    let addr = estate.service_addr("frandroid").expect("addr");
    assert_eq!(frandroid.monitors[0].target, format!("http://{addr}/"));
    let db = demo
        .services
        .iter()
        .find(|s| s.id.as_str() == "databases")
        .expect("databases");
    assert!(db.monitors[0].target.starts_with("127.0.0.1:"));
    // Push monitors (the backup) are fed by heartbeats, not retargeted.
    let backups = demo
        .services
        .iter()
        .find(|s| s.id.as_str() == "backups")
        .expect("backups");
    assert_eq!(backups.monitors[0].target, "");

    let body = client_from("127.0.0.2")
        .get(format!("http://{addr}/"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(body.contains("<title>FrAndroid</title>"), "{body}");

    let mut tcp = tokio::net::TcpStream::connect(estate.service_addr("databases").expect("db"))
        .await
        .expect("connect");
    let mut banner = String::new();
    tcp.read_to_string(&mut banner).await.expect("read");
    assert!(banner.contains("ready"));
}

#[tokio::test]
async fn a_cut_physical_host_takes_down_the_sites_on_its_vms_only() {
    let catalog = catalog();
    let estate = Estate::start(&catalog).await.expect("estate");
    let client = client_from("127.0.0.2");
    let frandroid = format!(
        "http://{}/",
        estate.service_addr("frandroid").expect("addr")
    );
    let forum = format!("http://{}/", estate.service_addr("forum").expect("addr"));

    estate.conditions.set_host("phys-2", HostCondition::Cut);
    let err = client
        .get(&frandroid)
        .send()
        .await
        .expect_err("frandroid is on phys-2");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        client
            .get(&forum)
            .send()
            .await
            .expect("forum is on phys-1")
            .status(),
        200
    );

    estate.conditions.set_host("phys-2", HostCondition::Healthy);
    assert_eq!(
        client.get(&frandroid).send().await.expect("back").status(),
        200
    );
}

#[tokio::test]
async fn a_degraded_link_fails_some_requests() {
    let catalog = catalog();
    let estate = Estate::start(&catalog).await.expect("estate");
    let client = client_from("127.0.0.2");
    let url = format!("http://{}/", estate.service_addr("mobs").expect("addr"));
    estate.conditions.set_host(
        "phys-2",
        HostCondition::Degraded {
            extra_latency_ms: 0,
            error_percent: 100,
        },
    );
    assert_eq!(client.get(&url).send().await.expect("answer").status(), 502);
}

#[tokio::test]
async fn a_partitioned_probe_location_is_refused_while_the_other_gets_through() {
    let catalog = catalog();
    let estate = Estate::start(&catalog).await.expect("estate");
    let url = format!("http://{}/", estate.service_addr("appxoid").expect("addr"));
    estate
        .conditions
        .set_partitioned("127.0.0.3".parse().expect("ip"), true);
    assert!(client_from("127.0.0.3").get(&url).send().await.is_err());
    assert_eq!(
        client_from("127.0.0.2")
            .get(&url)
            .send()
            .await
            .expect("other location")
            .status(),
        200
    );
}
