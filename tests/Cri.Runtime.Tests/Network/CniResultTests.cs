using System.Text.Json.Nodes;
using Crisp.Runtime.Network;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

public sealed class CniResultTests
{
    private static IReadOnlyList<string> Ips(string json) => CniResult.PodIps(JsonNode.Parse(json)!.AsObject());

    [Fact]
    public void No_result_has_no_ips()
    {
        Assert.Empty(CniResult.PodIps(null));
        Assert.Empty(Ips("""{"cniVersion":"1.0.0"}"""));
        Assert.Empty(Ips("""{"cniVersion":"1.0.0","ips":[]}"""));
    }

    [Fact]
    public void V1_result_takes_addresses_on_sandbox_interfaces_and_skips_host_side_ones()
    {
        var ips = Ips("""
            {"cniVersion":"1.0.0",
             "interfaces":[
               {"name":"cni0","mac":"aa:bb:cc:dd:ee:00"},
               {"name":"veth1234","mac":"aa:bb:cc:dd:ee:01"},
               {"name":"eth0","mac":"aa:bb:cc:dd:ee:02","sandbox":"/run/netns/x"}],
             "ips":[
               {"address":"10.22.0.1/16","interface":0},
               {"address":"10.22.0.7/16","gateway":"10.22.0.1","interface":2},
               {"address":"10.99.0.1/24","interface":1}]}
            """);

        Assert.Equal(["10.22.0.7"], ips);
    }

    [Fact]
    public void Empty_sandbox_string_counts_as_a_host_interface()
    {
        var ips = Ips("""
            {"cniVersion":"1.0.0","interfaces":[{"name":"br","sandbox":""},{"name":"eth0","sandbox":"/ns"}],
             "ips":[{"address":"10.0.0.1/24","interface":0},{"address":"10.0.0.2/24","interface":1}]}
            """);

        Assert.Equal(["10.0.0.2"], ips);
    }

    [Fact]
    public void Ips_without_an_interface_or_with_an_index_out_of_range_are_kept()
    {
        var ips = Ips("""
            {"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/ns"}],
             "ips":[{"address":"10.0.0.5/24"},{"address":"10.0.0.6/24","interface":7},{"address":"10.0.0.8/24","interface":-1}]}
            """);

        Assert.Equal(["10.0.0.5", "10.0.0.6", "10.0.0.8"], ips);
    }

    [Fact]
    public void Ips_with_an_interface_index_but_no_interfaces_list_are_kept()
    {
        Assert.Equal(["10.0.0.5"], Ips("""{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.5/24","interface":0}]}"""));
    }

    [Fact]
    public void V040_result_with_version_fields_is_read()
    {
        var ips = Ips("""
            {"cniVersion":"0.4.0",
             "interfaces":[{"name":"cni0"},{"name":"eth0","sandbox":"/var/run/netns/p"}],
             "ips":[{"version":"4","address":"10.88.0.12/16","gateway":"10.88.0.1","interface":1},
                    {"version":"6","address":"fd00::c/64","gateway":"fd00::1","interface":1}],
             "routes":[{"dst":"0.0.0.0/0"}],"dns":{}}
            """);

        Assert.Equal(["10.88.0.12", "fd00::c"], ips);
    }

    [Fact]
    public void V020_result_reads_ip4_and_ip6()
    {
        var ips = Ips("""
            {"cniVersion":"0.2.0",
             "ip4":{"ip":"10.1.2.3/24","gateway":"10.1.2.1","routes":[{"dst":"0.0.0.0/0"}]},
             "ip6":{"ip":"2001:db8::3/64"},"dns":{}}
            """);

        Assert.Equal(["10.1.2.3", "2001:db8::3"], ips);
    }

    [Fact]
    public void V020_result_with_only_ip6()
    {
        Assert.Equal(["2001:db8::9"], Ips("""{"cniVersion":"0.2.0","ip6":{"ip":"2001:db8::9/64"}}"""));
    }

    [Fact]
    public void Ipv4_comes_first_in_dual_stack_and_otherwise_result_order_is_kept()
    {
        var ips = Ips("""
            {"cniVersion":"1.0.0","ips":[
              {"address":"fd00::2/64"},{"address":"10.0.0.2/24"},{"address":"fd00::1/64"},{"address":"10.0.0.1/24"}]}
            """);

        Assert.Equal(["10.0.0.2", "10.0.0.1", "fd00::2", "fd00::1"], ips);
    }

    [Fact]
    public void Duplicate_addresses_are_reported_once()
    {
        var ips = Ips("""
            {"cniVersion":"1.0.0","ips":[
              {"address":"10.0.0.2/24"},{"address":"10.0.0.2/16"},{"address":"fd00::2/64"},{"address":"fd00:0:0::2/64"}]}
            """);

        Assert.Equal(["10.0.0.2", "fd00::2"], ips);
    }

    [Fact]
    public void Unparsable_or_missing_addresses_are_ignored()
    {
        var ips = Ips("""
            {"cniVersion":"1.0.0","ips":[{"address":"not-an-ip/24"},{"gateway":"10.0.0.1"},{"address":5},{"address":"10.0.0.3"}]}
            """);

        Assert.Equal(["10.0.0.3"], ips);
    }

    [Fact]
    public void Malformed_sandbox_field_does_not_throw()
    {
        // A non-conformant plugin result must not crash the attach after its ADD succeeded; whether the address counts is secondary.
        var e = Record.Exception(() => Ips("""{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":5}],"ips":[{"address":"10.0.0.1/24","interface":0}]}"""));

        Assert.Null(e);
    }
}
