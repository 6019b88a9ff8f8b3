//! Scenario tests in a simulated cloud built from network namespaces (see `bed.rs`).
//!
//! They need root (network namespaces, nftables, a TUN device) and the tools each one
//! declares below. `harness.rs` checks them before the first test: a test whose needs are
//! not met is reported as ignored with the package to install, and fails instead when
//! `IPDIAG_REQUIRE_NETNS=1` (CI). Packets go only to addresses inside the namespaces these
//! tests create and delete.
//! Linux only: network namespaces, nftables and TUN devices are Linux's; elsewhere the
//! suite is one line saying so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step fails the test"
)]

#[cfg(target_os = "linux")]
mod alone;
#[cfg(target_os = "linux")]
mod bed;
#[cfg(target_os = "linux")]
mod cases;
#[cfg(target_os = "linux")]
mod chain;
#[cfg(target_os = "linux")]
mod check;
#[cfg(target_os = "linux")]
mod delayline;
#[cfg(target_os = "linux")]
mod direction;
#[cfg(target_os = "linux")]
mod ecmp;
#[cfg(target_os = "linux")]
mod edge_icmp;
#[cfg(target_os = "linux")]
mod firewall;
#[cfg(target_os = "linux")]
mod firewall_trace;
#[cfg(target_os = "linux")]
mod harness;
#[cfg(target_os = "linux")]
mod icmp_limit;
#[cfg(target_os = "linux")]
mod idle;
#[cfg(target_os = "linux")]
mod late;
#[cfg(target_os = "linux")]
mod lone;
#[cfg(target_os = "linux")]
mod loss;
#[cfg(target_os = "linux")]
mod nmap;
#[cfg(target_os = "linux")]
mod no_route;
#[cfg(target_os = "linux")]
mod one_side;
#[cfg(target_os = "linux")]
mod own_stack;
#[cfg(target_os = "linux")]
mod paris;
#[cfg(target_os = "linux")]
mod ping;
#[cfg(target_os = "linux")]
mod prometheus;
#[cfg(target_os = "linux")]
#[path = "../cli/pty.rs"]
mod pty;
#[cfg(target_os = "linux")]
mod publish;
#[cfg(target_os = "linux")]
mod ration;
#[cfg(target_os = "linux")]
mod raw_rtt;
#[cfg(target_os = "linux")]
mod rcvbuf;
#[cfg(target_os = "linux")]
mod server_side;
#[cfg(target_os = "linux")]
mod servers;
#[cfg(target_os = "linux")]
mod sizes;
#[cfg(target_os = "linux")]
mod sshd;
#[cfg(target_os = "linux")]
mod trace;
#[cfg(target_os = "linux")]
mod ttl;
#[cfg(target_os = "linux")]
mod two_sided;
#[cfg(target_os = "linux")]
mod two_sided_real;
#[cfg(target_os = "linux")]
mod vantage;
#[cfg(target_os = "linux")]
mod watch;

#[cfg(target_os = "linux")]
use harness::NsTest;

/// Every namespace test with what it needs besides ipdiag (`harness::Need`). A test added
/// to a module is added here too: the harness runs only what this list names (one left out
/// is dead code, which clippy's `-D warnings` refuses).
#[cfg(target_os = "linux")]
const TESTS: &[NsTest] = &[
    ns_test!(cases::tcp_open, Root, Ip, Nft, Nmap),
    ns_test!(
        prometheus::prometheus_scrapes_states_reasons_and_causes,
        Root,
        Ip,
        Nft,
        Prometheus
    ),
    ns_test!(cases::tcp_host_silent, Root, Ip, Nft, Nmap),
    ns_test!(
        cases::tcp_server_bound_to_loopback_only,
        Root,
        Ip,
        Nft,
        Nmap
    ),
    ns_test!(cases::tcp_nothing_listening, Root, Ip, Nft, Nmap),
    ns_test!(cases::tcp_dropped_by_security_group, Root, Ip, Nft, Nmap),
    ns_test!(cases::tcp_rejected_by_host_firewall, Root, Ip, Nft, Nmap),
    ns_test!(
        cases::tcp_client_dials_the_private_address,
        Root,
        Ip,
        Nft,
        Nmap
    ),
    ns_test!(cases::udp_echo_open, Root, Ip, Nft, Nmap),
    ns_test!(cases::udp_nothing_listening, Root, Ip, Nft, Nmap),
    ns_test!(cases::udp_dropped_by_security_group, Root, Ip, Nft, Nmap),
    ns_test!(cases::lossy_delayed_path, Root, Ip, Nft, Ping),
    ns_test!(cases::doctor_security_group_with_ssh_open, Root, Ip, Nft),
    ns_test!(cases::doctor_whole_host_silent, Root, Ip, Nft),
    ns_test!(
        check::security_group_drop_is_filtered_and_fails_an_open_check_with_its_cause,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        check::wait_udp_is_never_ready_on_an_icmp_error_from_the_path,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        direction::loss_injected_server_to_client_is_split_by_direction,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        direction::the_probe_command_splits_loss_by_direction,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        edge_icmp::the_edge_rejects_with_port_unreachable,
        Root,
        Ip,
        Nft,
        Nmap
    ),
    ns_test!(
        edge_icmp::the_edge_rejects_with_admin_prohibited,
        Root,
        Ip,
        Nft,
        Nmap
    ),
    ns_test!(edge_icmp::the_ttl_runs_out_at_the_edge, Root, Ip, Nft, Nmap),
    ns_test!(
        firewall::iptables_rows_of_the_issue,
        Root,
        Ip,
        Nft,
        Iptables
    ),
    ns_test!(firewall::nftables_policy_and_jump, Root, Ip, Nft),
    ns_test!(firewall::firewalld_style_zones, Root, Ip, Nft),
    ns_test!(
        firewall::tables_at_other_priorities_all_must_accept,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        firewall::established_accept_does_not_let_new_connections_in,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        firewall::a_source_restriction_and_an_unknown_match,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        firewall::the_listing_says_how_far_each_port_is_let_in,
        Root,
        Ip,
        Nft,
        Iptables
    ),
    ns_test!(
        firewall::legacy_iptables_rules_are_read_too,
        Root,
        Ip,
        Nft,
        Iptables
    ),
    ns_test!(
        firewall_trace::the_trace_names_the_deciding_rule_and_leaves_the_ruleset_as_found,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        lone::a_link_local_address_is_probed_through_its_zone,
        Root,
        Ip
    ),
    ns_test!(
        lone::local_on_a_loopback_only_host_claims_no_nat_and_aligns_its_interfaces,
        Root,
        Ip
    ),
    ns_test!(
        late::an_answer_after_the_timeout_is_late_not_lost,
        Root,
        Ip,
        Nft
    ),
    ns_test!(lone::a_name_that_never_resolved_shows_no_loss, Root, Ip),
    ns_test!(
        idle::a_nat_that_forgets_a_udp_flow_after_3_s_is_found_between_2_and_4_s,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        idle::a_path_that_keeps_the_flow_keeps_all_silences,
        Root,
        Ip,
        Nft
    ),
    ns_test!(loss::a_sweep_under_ten_percent_loss_is_exact, Root, Ip, Nft),
    ns_test!(
        loss::a_sweep_under_thirty_percent_loss_is_exact_with_default_retries,
        Root,
        Ip,
        Nft
    ),
    ns_test!(nmap::reads_grepable_output),
    ns_test!(nmap::reads_the_xml_state_with_reason_and_sender),
    ns_test!(
        no_route::udp_and_tcp_probes_without_a_route_are_no_route,
        Root,
        Ip
    ),
    ns_test!(
        no_route::doctor_check_and_wait_without_a_route_end_with_no_route,
        Root,
        Ip
    ),
    ns_test!(no_route::ctrl_c_ends_runs_without_a_route, Root, Ip),
    ns_test!(no_route::a_hanging_lookup_ends_at_the_deadline, Root, Ip),
    ns_test!(
        own_stack::no_arp_reply_on_an_overlapping_lan_is_private_address_not_an_answer,
        Root,
        Ip
    ),
    ns_test!(
        own_stack::a_dual_stack_name_is_reachable_by_its_ipv4_address,
        Root,
        Ip
    ),
    ns_test!(own_stack::the_clients_own_firewall_is_named, Root, Ip, Nft),
    ns_test!(
        one_side::a_middlebox_answering_every_port_is_not_ok,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        one_side::a_udp_server_that_never_answers_is_not_blamed_on_the_group_alone,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        ping::ping_reports_the_injected_delay_and_loss,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        ration::a_sweep_slowed_by_the_ration_shows_progress_and_why,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        ration::a_udp_sweep_gets_closed_ports_right_behind_the_icmp_ration,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        rcvbuf::a_flooded_receiver_overflows_and_watching_sees_it_rise,
        Root,
        Ip
    ),
    ns_test!(
        rcvbuf::a_listener_stays_visible_while_other_sockets_come_and_go,
        Root,
        Ip
    ),
    ns_test!(
        server_side::udp_open_through_the_responder_reports_the_natted_source,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        server_side::udp_reply_leaves_from_the_address_the_request_was_sent_to,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        server_side::udp_dropped_with_a_responder_is_filtered,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        server_side::serve_on_the_public_ip_explains_bind_public_ip,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        server_side::local_on_the_server_finds_binds_and_firewall,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        sizes::sizes_above_the_path_mtu_are_lost_as_fragments,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        sizes::the_size_sweep_finds_the_largest_datagram_that_arrives,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        trace::trace_reaches_an_open_port_through_every_router,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        trace::a_drop_at_the_providers_edge_is_the_security_group,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        trace::a_drop_before_the_provider_is_the_clients_network,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        trace::the_table_streams_a_line_per_hop_and_ends_with_the_verdict,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        trace::doctor_trace_makes_the_edge_drop_evidence_for_the_security_group,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        trace::a_translating_edge_answers_for_the_target,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        trace::doctor_trace_blames_the_clients_network_when_replies_stop_before_the_provider,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        paris::every_probe_of_a_tcp_trace_takes_the_same_path,
        Root,
        Ip
    ),
    ns_test!(
        paris::every_probe_of_a_udp_trace_takes_the_same_path,
        Root,
        Ip
    ),
    ns_test!(paris::multipath_finds_both_equal_cost_paths, Root, Ip),
    ns_test!(
        icmp_limit::a_router_limiting_its_icmp_is_labelled_and_the_verdict_stands,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        vantage::merge_names_each_split_from_three_vantages,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        raw_rtt::raw_rtts_agree_with_connect_rtts_on_a_delayed_path,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        two_sided::reply_from_another_address_seen_by_the_client,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        two_sided::a_reply_from_the_dialled_address_is_not_a_stray,
        Root,
        Ip,
        Nft
    ),
    ns_test!(two_sided::through_a_real_sshd, Root, Ip, Nft, Ssh),
    ns_test!(
        two_sided_real::the_security_group_is_proven_when_nothing_arrives,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        two_sided_real::the_vms_own_firewall_is_proven_with_its_rule,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        two_sided_real::a_udp_server_that_never_answers_is_proven_on_the_server,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        two_sided_real::nothing_listening_is_proven_on_the_server,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        watch::arrivals_per_source_and_the_rule_that_dropped_them,
        Root,
        Ip,
        Nft
    ),
    ns_test!(watch::udp_received_and_never_answered, Root, Ip, Nft),
    ns_test!(watch::udp_answered_from_another_address, Root, Ip, Nft),
    ns_test!(watch::accept_queue_overflow, Root, Ip, Nft),
    ns_test!(watch::nothing_arrived, Root, Ip, Nft),
    ns_test!(
        watch::without_cap_net_raw_the_counters_still_speak,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        watch::iptables_rule_counters_name_the_dropping_rule,
        Root,
        Ip,
        Nft,
        Iptables
    ),
    ns_test!(
        publish::published_ports_bypass_the_input_chain,
        Root,
        Ip,
        Nft,
        Iptables
    ),
    ns_test!(
        ttl::the_edge_rejecting_from_the_public_address_is_ranked_the_security_group,
        Root,
        Ip,
        Nft
    ),
    ns_test!(
        ttl::the_servers_own_rejection_is_as_far_as_its_answers,
        Root,
        Ip,
        Nft
    ),
];

#[cfg(target_os = "linux")]
fn main() {
    harness::main(TESTS)
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("the namespace suite runs on Linux only (network namespaces, nftables, TUN)");
}
