using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Network;
using Crisp.TestSupport.Network;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

// One plugin-running class at a time: they spawn many short processes on a two-core machine.
[Collection(FakeCniPlugins.Collection)]
public sealed class PodNetworkTests : IDisposable
{
    // Not a mount point, so DEL must pass it as "" (the namespace is gone).
    private const string Netns = "/run/crisp-test-nowhere/ns/net";

    private const string Result1 = """
        {"cniVersion":"1.0.0","interfaces":[{"name":"br0"},{"name":"eth0","sandbox":"/x"}],
         "ips":[{"address":"10.50.0.7/24","interface":1}]}
        """;
    private const string Result2 = """
        {"cniVersion":"1.0.0","interfaces":[{"name":"br0"},{"name":"eth0","sandbox":"/x"}],
         "ips":[{"address":"fd50::7/64","interface":1},{"address":"10.50.0.7/24","interface":1},{"address":"10.50.0.1/24","interface":0}]}
        """;

    private readonly FakeCniPlugins _fake = new();

    public void Dispose() => _fake.Dispose();

    private PodNetwork Network() => new(
        new CniConfigSource(_fake.ConfDir, NullLogger<CniConfigSource>.Instance),
        new CniPluginExecutor([_fake.BinDir]),
        new CniAttachmentCache(_fake.CacheDir),
        new PodCidrStore(_fake.PodCidrFile),
        NullLogger<PodNetwork>.Instance)
    {
        FailedRetryInterval = TimeSpan.Zero,
    };

    private static PodSandboxConfig Pod(string name = "web", params PortMapping[] ports)
    {
        var pod = new PodSandboxConfig { Metadata = new PodSandboxMetadata { Name = name, Namespace = "team-a", Uid = "uid-" + name } };
        pod.PortMappings.Add(ports);
        return pod;
    }

    private void Chain(string version, params string[] types)
    {
        var plugins = new JsonArray(types.Select(t => (JsonNode)new JsonObject { ["type"] = t }).ToArray());
        _fake.WriteConfig("10-test.conflist", new JsonObject { ["cniVersion"] = version, ["name"] = "testnet", ["plugins"] = plugins }.ToJsonString());
    }

    [Fact]
    public async Task Add_runs_the_chain_in_order_threading_each_result_into_the_next_prevResult()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("two", Result2);
        _fake.Plugin("three");
        Chain("1.0.0", "one", "two", "three");

        var ips = await Network().AttachAsync("sb1", Pod(), Netns, CancellationToken.None);

        var calls = _fake.Calls();
        Assert.Equal(["ADD one", "ADD two", "ADD three"], _fake.CallSummary());
        Assert.False(calls[0].Stdin.ContainsKey("prevResult"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Result1), calls[1].Stdin["prevResult"]), calls[1].Stdin.ToJsonString());
        // A plugin that prints nothing passes the previous result on.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Result2), calls[2].Stdin["prevResult"]), calls[2].Stdin.ToJsonString());
        foreach (var call in calls)
        {
            Assert.Equal("testnet", call.Stdin["name"]!.GetValue<string>());
            Assert.Equal("1.0.0", call.Stdin["cniVersion"]!.GetValue<string>());
            Assert.False(call.Stdin.ContainsKey("runtimeConfig"));
        }
        // IPv4 first; the host-side bridge address is not the pod's.
        Assert.Equal(["10.50.0.7", "fd50::7"], ips);
    }

    [Fact]
    public async Task Add_gives_plugins_the_cni_environment()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");

        await Network().AttachAsync("sb-env", Pod("api"), Netns, CancellationToken.None);

        var env = Assert.Single(_fake.Calls()).Env;
        Assert.Equal("ADD", env["CNI_COMMAND"]);
        Assert.Equal("sb-env", env["CNI_CONTAINERID"]);
        Assert.Equal("eth0", env["CNI_IFNAME"]);
        Assert.Equal(Netns, env["CNI_NETNS"]);
        Assert.Equal(_fake.BinDir, env["CNI_PATH"]);
        Assert.Equal("IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=api;K8S_POD_INFRA_CONTAINER_ID=sb-env;K8S_POD_UID=uid-api", env["CNI_ARGS"]);
    }

    [Fact]
    public async Task Runtime_config_goes_only_to_plugins_that_ask_for_it()
    {
        _fake.Plugin("ipam", Result1);
        _fake.Plugin("portmap");
        _fake.WriteConfig("10-test.conflist", """
            {"cniVersion":"1.0.0","name":"testnet","plugins":[
              {"type":"ipam","capabilities":{"ipRanges":true}},
              {"type":"portmap","capabilities":{"portMappings":true}}]}
            """);
        var network = Network();
        await network.PodCidr.UpdateAsync("10.50.0.0/24", CancellationToken.None);
        var port = FreeTcpPort.Pick();

        await network.AttachAsync("sb-rc", Pod("web", new PortMapping { HostPort = port, ContainerPort = 80 }), Netns, CancellationToken.None);

        var calls = _fake.Calls();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"ipRanges":[[{"subnet":"10.50.0.0/24"}]]}"""), calls[0].Stdin["runtimeConfig"]),
            calls[0].Stdin.ToJsonString());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse($$"""{"portMappings":[{"hostPort":{{port}},"containerPort":80,"protocol":"tcp","hostIP":""}]}"""), calls[1].Stdin["runtimeConfig"]),
            calls[1].Stdin.ToJsonString());
        // The plugin's own keys are passed through untouched.
        Assert.True(calls[1].Stdin["capabilities"]!["portMappings"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Del_runs_in_reverse_with_the_cached_result_and_an_absent_netns()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("two", Result2);
        _fake.Plugin("three");
        Chain("1.0.0", "one", "two", "three");
        var network = Network();
        await network.AttachAsync("sb-del", Pod(), Netns, CancellationToken.None);
        _fake.ClearCalls();

        await network.DetachAsync("sb-del", CancellationToken.None);

        var calls = _fake.Calls();
        Assert.Equal(["DEL three", "DEL two", "DEL one"], _fake.CallSummary());
        foreach (var call in calls)
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Result2), call.Stdin["prevResult"]), call.Stdin.ToJsonString());
            Assert.Equal("", call.Env["CNI_NETNS"]);
            Assert.Equal("sb-del", call.Env["CNI_CONTAINERID"]);
            Assert.Equal("eth0", call.Env["CNI_IFNAME"]);
            Assert.Contains("K8S_POD_INFRA_CONTAINER_ID=sb-del", call.Env["CNI_ARGS"]);
            Assert.Equal("testnet", call.Stdin["name"]!.GetValue<string>());
        }
        Assert.Empty(network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Del_passes_a_netns_that_is_still_mounted()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");
        var network = Network();
        // Any mount point will do for a fake plugin: it is only passed along.
        await network.AttachAsync("sb-mounted", Pod(), "/proc", CancellationToken.None);
        _fake.ClearCalls();

        await network.DetachAsync("sb-mounted", CancellationToken.None);

        Assert.Equal("/proc", Assert.Single(_fake.Calls()).Env["CNI_NETNS"]);
    }

    [Fact]
    public async Task Del_for_cni_0_3_1_gets_no_prevResult()
    {
        _fake.Plugin("one", Result1.Replace("1.0.0", "0.3.1"));
        _fake.Plugin("two");
        Chain("0.3.1", "one", "two");
        var network = Network();
        await network.AttachAsync("sb-old", Pod(), Netns, CancellationToken.None);
        var add = _fake.Calls();
        Assert.True(add[1].Stdin.ContainsKey("prevResult"));
        _fake.ClearCalls();

        await network.DetachAsync("sb-old", CancellationToken.None);

        Assert.Equal(["DEL two", "DEL one"], _fake.CallSummary());
        Assert.All(_fake.Calls(), c =>
        {
            Assert.False(c.Stdin.ContainsKey("prevResult"));
            Assert.Equal("0.3.1", c.Stdin["cniVersion"]!.GetValue<string>());
        });
    }

    [Fact]
    public async Task Del_for_cni_0_4_0_gets_the_cached_prevResult()
    {
        _fake.Plugin("one", Result1.Replace("1.0.0", "0.4.0"));
        Chain("0.4.0", "one");
        var network = Network();
        await network.AttachAsync("sb-040", Pod(), Netns, CancellationToken.None);
        _fake.ClearCalls();

        await network.DetachAsync("sb-040", CancellationToken.None);

        Assert.NotNull(Assert.Single(_fake.Calls()).Stdin["prevResult"]);
    }

    [Fact]
    public async Task Failing_plugin_error_is_reported_and_the_whole_chain_is_deleted()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("two", Result2);
        _fake.Plugin("three");
        _fake.FailWithCniError("two", "ADD", """{"cniVersion":"1.0.0","code":11,"msg":"failed to allocate for range 0: no IP addresses available","details":"range 10.50.0.0/30"}""");
        Chain("1.0.0", "one", "two", "three");
        var network = Network();

        var e = await Assert.ThrowsAsync<RuntimeException>(() => network.AttachAsync("sb-fail", Pod(), Netns, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.Internal, e.Kind);
        Assert.Contains("type=\"two\"", e.Message);
        Assert.Contains("failed to allocate for range 0: no IP addresses available", e.Message);
        Assert.Contains("range 10.50.0.0/30", e.Message);
        Assert.Contains("sb-fail", e.Message);
        Assert.Contains("team-a/web", e.Message);
        Assert.Equal(["ADD one", "ADD two", "DEL three", "DEL two", "DEL one"], _fake.CallSummary());
        var dels = _fake.Calls().Skip(2).ToList();
        // DEL sees what ADD got before it failed.
        Assert.All(dels, c => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Result1), c.Stdin["prevResult"]), c.Stdin.ToJsonString()));
        Assert.Empty(network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Failing_first_plugin_is_deleted_without_a_prevResult()
    {
        _fake.Plugin("one");
        _fake.FailWithStderr("one", "ADD", "cannot create bridge: permission denied");
        Chain("1.0.0", "one");
        var network = Network();

        var e = await Assert.ThrowsAsync<RuntimeException>(() => network.AttachAsync("sb-stderr", Pod(), Netns, CancellationToken.None));

        Assert.Contains("cannot create bridge: permission denied", e.Message);
        Assert.Contains("exited with 3", e.Message);
        Assert.Contains("\"one\"", e.Message);
        Assert.Equal(["ADD one", "DEL one"], _fake.CallSummary());
        Assert.False(_fake.Calls()[1].Stdin.ContainsKey("prevResult"));
        Assert.Empty(network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Missing_plugin_is_named_in_the_error()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one", "ghost-plugin");
        var network = Network();

        var e = await Assert.ThrowsAsync<RuntimeException>(() => network.AttachAsync("sb-missing", Pod(), Netns, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.Internal, e.Kind);
        Assert.Contains("ghost-plugin", e.Message);
        Assert.Contains("failed to find plugin", e.Message);
        Assert.Contains(_fake.BinDir, e.Message);
        Assert.Equal(["ADD one", "DEL one"], _fake.CallSummary());
    }

    [Fact]
    public async Task Plugin_without_execute_permission_is_not_found()
    {
        _fake.Plugin("one", Result1);
        File.SetUnixFileMode(Path.Combine(_fake.BinDir, "one"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Chain("1.0.0", "one");

        var e = await Assert.ThrowsAsync<RuntimeException>(() => Network().AttachAsync("sb-noexec", Pod(), Netns, CancellationToken.None));

        Assert.Contains("failed to find plugin \"one\"", e.Message);
        Assert.Empty(_fake.Calls());
    }

    [Fact]
    public async Task Missing_plugin_is_skipped_by_the_del_that_undoes_the_add()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one", "ghost-plugin");
        var network = Network();

        await Assert.ThrowsAsync<RuntimeException>(() => network.AttachAsync("sb-ghost", Pod(), Netns, CancellationToken.None));

        Assert.Equal(["ADD one", "DEL one"], _fake.CallSummary());
        Assert.Empty(network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Detach_skips_a_plugin_uninstalled_since_the_add()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("two");
        Chain("1.0.0", "one", "two");
        var network = Network();
        await network.AttachAsync("sb-uninstalled", Pod(), Netns, CancellationToken.None);
        File.Delete(Path.Combine(_fake.BinDir, "two"));
        _fake.ClearCalls();

        await network.DetachAsync("sb-uninstalled", CancellationToken.None);

        Assert.Equal(["DEL one"], _fake.CallSummary());
        Assert.Empty(network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Failed_attach_whose_undo_fails_claims_no_host_ports()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("broken");
        _fake.FailWithCniError("broken", "ADD", """{"code":100,"msg":"add broke"}""");
        _fake.FailWithCniError("broken", "DEL", """{"code":100,"msg":"del broke too"}""");
        Chain("1.0.0", "one", "broken");
        var network = Network();
        var port = FreeTcpPort.Pick();
        var mapping = new PortMapping { HostPort = port, ContainerPort = 80 };
        var first = await Assert.ThrowsAsync<RuntimeException>(() => network.AttachAsync("sb-try1", Pod("web", mapping), Netns, CancellationToken.None));
        Assert.Contains("add broke", first.Message);
        // Kept for a later DEL...
        Assert.Equal(["sb-try1"], network.AttachedSandboxIds());

        // ...but the kubelet's retry (a new sandbox id) must get the plugin's error again, not a hostPort conflict.
        var retry = await Assert.ThrowsAsync<RuntimeException>(() => network.AttachAsync("sb-try2", Pod("web", mapping), Netns, CancellationToken.None));

        Assert.Contains("add broke", retry.Message);
        Assert.DoesNotContain($"hostPort {port}", retry.Message);
    }

    [Fact]
    public async Task Failed_undo_is_retried_by_the_next_attach_once_the_plugin_works()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("broken");
        _fake.FailWithCniError("broken", "ADD", """{"code":100,"msg":"add broke"}""");
        _fake.FailWithCniError("broken", "DEL", """{"code":100,"msg":"del broke too"}""");
        Chain("1.0.0", "one", "broken");
        var network = Network();
        await Assert.ThrowsAsync<RuntimeException>(() => network.AttachAsync("sb-left", Pod(), Netns, CancellationToken.None));
        Assert.Equal(["sb-left"], network.AttachedSandboxIds());

        _fake.Heal("broken", "ADD");
        _fake.Heal("broken", "DEL");
        _fake.ClearCalls();
        await network.AttachAsync("sb-next", Pod("next"), Netns, CancellationToken.None);

        var calls = _fake.Calls();
        Assert.Equal(["DEL broken", "DEL one", "ADD one", "ADD broken"], _fake.CallSummary());
        Assert.All(calls.Take(2), c => Assert.Equal("sb-left", c.Env["CNI_CONTAINERID"]));
        Assert.Equal(["sb-next"], network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Failed_undo_is_retried_at_most_once_per_interval()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("broken");
        _fake.FailWithCniError("broken", "ADD", """{"code":100,"msg":"add broke"}""");
        _fake.FailWithCniError("broken", "DEL", """{"code":100,"msg":"del broke too"}""");
        Chain("1.0.0", "one", "broken");
        var slow = new PodNetwork(
            new CniConfigSource(_fake.ConfDir, NullLogger<CniConfigSource>.Instance),
            new CniPluginExecutor([_fake.BinDir]),
            new CniAttachmentCache(_fake.CacheDir),
            new PodCidrStore(_fake.PodCidrFile),
            NullLogger<PodNetwork>.Instance) { FailedRetryInterval = TimeSpan.FromMinutes(1) };
        await Assert.ThrowsAsync<RuntimeException>(() => slow.AttachAsync("sb-left", Pod(), Netns, CancellationToken.None));

        _fake.Heal("broken", "ADD");
        _fake.ClearCalls();
        await slow.AttachAsync("sb-next", Pod("next"), Netns, CancellationToken.None);

        // The first attach already used this minute's retry; the second does not pay for the failed one again.
        Assert.Equal(["ADD one", "ADD broken"], _fake.CallSummary());
        Assert.Contains("sb-left", slow.AttachedSandboxIds());
    }

    [Fact]
    public async Task An_abandoned_attachment_no_longer_claims_its_host_ports()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");
        var network = Network();
        var port = FreeTcpPort.Pick();
        var mapping = new PortMapping { HostPort = port, ContainerPort = 80 };
        await network.AttachAsync("sb-setup-failed", Pod("web", mapping), Netns, CancellationToken.None);

        // RunPodSandbox failed after ADD and its DEL failed too: the pod is gone, its attachment waits for a DEL.
        await network.AbandonAsync("sb-setup-failed", CancellationToken.None);
        await network.AttachAsync("sb-retry", Pod("web-retry", mapping), Netns, CancellationToken.None);

        Assert.Contains("sb-retry", network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Failed_undo_can_be_finished_by_detach()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("broken");
        _fake.FailWithCniError("broken", "ADD", """{"code":100,"msg":"add broke"}""");
        _fake.FailWithCniError("broken", "DEL", """{"code":100,"msg":"del broke too"}""");
        Chain("1.0.0", "one", "broken");
        var network = Network();
        await Assert.ThrowsAsync<RuntimeException>(() => network.AttachAsync("sb-left", Pod(), Netns, CancellationToken.None));

        _fake.Heal("broken", "DEL");
        _fake.ClearCalls();
        await network.DetachAsync("sb-left", CancellationToken.None);

        Assert.Equal(["DEL broken", "DEL one"], _fake.CallSummary());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Result1), _fake.Calls()[0].Stdin["prevResult"]));
        Assert.Empty(network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Unparsable_plugin_output_fails_the_add()
    {
        _fake.Plugin("one");
        _fake.Stdout("one", "ADD", "this is not json");
        Chain("1.0.0", "one");

        var e = await Assert.ThrowsAsync<RuntimeException>(() => Network().AttachAsync("sb-garbage", Pod(), Netns, CancellationToken.None));

        Assert.Contains("unparsable result", e.Message);
        Assert.Contains("\"one\"", e.Message);
    }

    [Fact]
    public async Task Non_object_plugin_output_fails_the_add()
    {
        _fake.Plugin("one");
        _fake.Stdout("one", "ADD", "[1,2,3]");
        Chain("1.0.0", "one");

        var e = await Assert.ThrowsAsync<RuntimeException>(() => Network().AttachAsync("sb-array", Pod(), Netns, CancellationToken.None));

        Assert.Contains("not a JSON object", e.Message);
    }

    [Fact]
    public async Task Detach_of_an_unknown_sandbox_is_a_no_op()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");

        await Network().DetachAsync("never-attached", CancellationToken.None);

        Assert.Empty(_fake.Calls());
    }

    [Fact]
    public async Task Detach_twice_runs_del_once()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");
        var network = Network();
        await network.AttachAsync("sb-twice", Pod(), Netns, CancellationToken.None);
        _fake.ClearCalls();

        await network.DetachAsync("sb-twice", CancellationToken.None);
        await network.DetachAsync("sb-twice", CancellationToken.None);

        Assert.Equal(["DEL one"], _fake.CallSummary());
    }

    [Fact]
    public async Task Detach_after_the_conf_dir_changed_uses_the_cached_config()
    {
        _fake.Plugin("old-a", Result1);
        _fake.Plugin("old-b");
        _fake.Plugin("new-x", Result2);
        _fake.WriteConfig("10-old.conflist", """
            {"cniVersion":"1.0.0","name":"oldnet","plugins":[{"type":"old-a","setting":"kept"},{"type":"old-b"}]}
            """);
        var network = Network();
        await network.AttachAsync("sb-moved", Pod(), Netns, CancellationToken.None);

        File.Delete(Path.Combine(_fake.ConfDir, "10-old.conflist"));
        _fake.WriteConfig("05-new.conf", """{"cniVersion":"0.4.0","name":"newnet","type":"new-x"}""");
        Assert.Equal("newnet", network.Status.NetworkName);
        _fake.ClearCalls();

        await network.DetachAsync("sb-moved", CancellationToken.None);

        var calls = _fake.Calls();
        Assert.Equal(["DEL old-b", "DEL old-a"], _fake.CallSummary());
        Assert.All(calls, c => Assert.Equal("oldnet", c.Stdin["name"]!.GetValue<string>()));
        Assert.Equal("kept", calls[1].Stdin["setting"]!.GetValue<string>());
    }

    [Fact]
    public async Task Detach_uses_the_cached_config_in_a_new_instance_too()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");
        await Network().AttachAsync("sb-restart", Pod(), Netns, CancellationToken.None);
        File.Delete(Path.Combine(_fake.ConfDir, "10-test.conflist"));
        _fake.ClearCalls();

        var restarted = Network();
        Assert.False(restarted.Status.Ready);
        Assert.Equal(["sb-restart"], restarted.AttachedSandboxIds());
        await restarted.DetachAsync("sb-restart", CancellationToken.None);

        Assert.Equal(["DEL one"], _fake.CallSummary());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Result1), _fake.Calls()[0].Stdin["prevResult"]));
    }

    [Fact]
    public async Task Failing_del_keeps_going_reports_the_plugin_and_keeps_the_attachment_for_a_retry()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("two");
        _fake.Plugin("three");
        Chain("1.0.0", "one", "two", "three");
        var network = Network();
        await network.AttachAsync("sb-delfail", Pod(), Netns, CancellationToken.None);
        _fake.FailWithCniError("two", "DEL", """{"code":999,"msg":"iptables is locked"}""");
        _fake.ClearCalls();

        var e = await Assert.ThrowsAsync<RuntimeException>(() => network.DetachAsync("sb-delfail", CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.Internal, e.Kind);
        Assert.Contains("iptables is locked", e.Message);
        Assert.Contains("type=\"two\"", e.Message);
        Assert.Contains("sb-delfail", e.Message);
        Assert.Equal(["DEL three", "DEL two", "DEL one"], _fake.CallSummary());
        Assert.Equal(["sb-delfail"], network.AttachedSandboxIds());

        _fake.Heal("two", "DEL");
        _fake.ClearCalls();
        await network.DetachAsync("sb-delfail", CancellationToken.None);
        Assert.Equal(["DEL three", "DEL two", "DEL one"], _fake.CallSummary());
        Assert.Empty(network.AttachedSandboxIds());
    }

    [Fact]
    public async Task No_valid_config_is_failed_precondition_without_running_anything()
    {
        _fake.Plugin("one", Result1);
        _fake.WriteConfig("10-bad.conflist", """{"name":"x","plugins":[]}""");

        var e = await Assert.ThrowsAsync<RuntimeException>(() => Network().AttachAsync("sb-nocfg", Pod(), Netns, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains($"no valid CNI network config found in {_fake.ConfDir}", e.Message);
        Assert.Contains("10-bad.conflist", e.Message);
        Assert.Empty(_fake.Calls());
        Assert.Empty(Network().AttachedSandboxIds());
    }

    [Fact]
    public async Task Host_port_of_an_attached_pod_is_refused_before_any_plugin_runs_and_freed_by_detach()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");
        var network = Network();
        var port = FreeTcpPort.Pick();
        var mapping = new PortMapping { HostPort = port, ContainerPort = 80, Protocol = Protocol.Tcp };
        await network.AttachAsync("sb-holder", Pod("a", mapping), Netns, CancellationToken.None);
        _fake.ClearCalls();

        var e = await Assert.ThrowsAsync<RuntimeException>(() => network.AttachAsync("sb-second", Pod("b", mapping), Netns, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains($"hostPort {port}", e.Message);
        Assert.Contains("sb-holder", e.Message);
        Assert.Empty(_fake.Calls());
        Assert.Equal(["sb-holder"], network.AttachedSandboxIds());

        await network.DetachAsync("sb-holder", CancellationToken.None);
        await network.AttachAsync("sb-second", Pod("b", mapping), Netns, CancellationToken.None);
        Assert.Equal(["sb-second"], network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Host_port_of_a_listening_socket_is_refused()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var e = await Assert.ThrowsAsync<RuntimeException>(() =>
            Network().AttachAsync("sb-busy", Pod("a", new PortMapping { HostPort = port, ContainerPort = 80, HostIp = "127.0.0.1" }), Netns, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains($"hostPort {port}", e.Message);
        Assert.Empty(_fake.Calls());
    }

    [Fact]
    public async Task Concurrent_attaches_wanting_one_host_port_let_exactly_one_through()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");
        var network = Network();
        var mapping = new PortMapping { HostPort = FreeTcpPort.Pick(), ContainerPort = 80 };

        var attempts = Enumerable.Range(0, 4)
            .Select(i => Record.ExceptionAsync(() => network.AttachAsync($"sb-race{i}", Pod($"p{i}", mapping), Netns, CancellationToken.None)))
            .ToList();
        var outcomes = await Task.WhenAll(attempts);

        Assert.Single(outcomes, e => e is null);
        Assert.All(outcomes.Where(e => e is not null), e => Assert.Equal(RuntimeErrorKind.FailedPrecondition, Assert.IsType<RuntimeException>(e).Kind));
        Assert.Single(network.AttachedSandboxIds());
        Assert.Equal(["ADD one"], _fake.CallSummary());
    }

    [Fact]
    public async Task Attaching_the_same_sandbox_again_does_not_conflict_with_its_own_ports()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");
        var network = Network();
        var mapping = new PortMapping { HostPort = FreeTcpPort.Pick(), ContainerPort = 80 };
        await network.AttachAsync("sb-same", Pod("a", mapping), Netns, CancellationToken.None);

        await network.AttachAsync("sb-same", Pod("a", mapping), Netns, CancellationToken.None);

        Assert.Equal(["sb-same"], network.AttachedSandboxIds());
    }

    [Fact]
    public async Task Invalid_bandwidth_annotation_is_refused_before_any_plugin_runs()
    {
        _fake.Plugin("one", Result1);
        Chain("1.0.0", "one");
        var pod = Pod();
        pod.Annotations[BandwidthQuantity.IngressAnnotation] = "fast";

        var e = await Assert.ThrowsAsync<RuntimeException>(() => Network().AttachAsync("sb-bw", pod, Netns, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Empty(_fake.Calls());
    }

    [Fact]
    public async Task Plugin_with_no_result_at_all_gives_no_ips()
    {
        _fake.Plugin("silent");
        Chain("1.0.0", "silent");

        Assert.Empty(await Network().AttachAsync("sb-silent", Pod(), Netns, CancellationToken.None));
    }

    [Fact]
    public async Task Cancelled_add_is_undone_and_rethrown_as_cancellation()
    {
        _fake.Plugin("one", Result1);
        _fake.Plugin("slow");
        _fake.Hang("slow", "ADD", 30);
        Chain("1.0.0", "one", "slow");
        var network = Network();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => network.AttachAsync("sb-cancel", Pod(), Netns, cts.Token));

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "the hanging plugin was waited for");
        Assert.Equal(["ADD one", "ADD slow", "DEL slow", "DEL one"], _fake.CallSummary());
        Assert.Empty(network.AttachedSandboxIds());
    }

    [Theory]
    [InlineData("1.0.0", true)]
    [InlineData("0.4.0", true)]
    [InlineData("0.3.1", false)]
    [InlineData("0.1.0", false)]
    [InlineData("2.1", true)]
    [InlineData("garbage", false)]
    public void Version_comparison(string version, bool atLeast040)
    {
        Assert.Equal(atLeast040, PodNetwork.VersionAtLeast(version, 0, 4));
    }
}
