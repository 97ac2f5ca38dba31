using System.Text.Json.Nodes;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Network;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

// One plugin-running class at a time: they spawn many short processes on a two-core machine.
[Collection(FakeCniPlugins.Collection)]
public sealed class CniPluginExecutorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-cni-exec-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Script(string dir, string name, string body, bool executable = true)
    {
        var full = Path.Combine(_root, dir);
        Directory.CreateDirectory(full);
        var path = Path.Combine(full, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, executable
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static readonly CniInvocation Invocation = new("cid", "/ns", "eth0", "IgnoreUnknown=1");

    [Fact]
    public void Find_takes_the_first_dir_holding_an_executable_of_that_name()
    {
        Script("a", "p", "exit 0", executable: false);
        var second = Script("b", "p", "exit 0");
        Script("c", "p", "exit 0");
        var executor = new CniPluginExecutor([Path.Combine(_root, "missing"), Path.Combine(_root, "a"), Path.Combine(_root, "b"), Path.Combine(_root, "c")]);

        Assert.Equal(second, executor.Find("p", "ADD"));
    }

    [Fact]
    public void Find_names_the_plugin_the_command_and_every_dir_when_absent()
    {
        var executor = new CniPluginExecutor(["/x/one", "/x/two"]);

        var e = Assert.Throws<CniPluginException>(() => executor.Find("nope", "DEL"));

        Assert.Equal("nope", e.PluginType);
        Assert.Equal("DEL", e.Command);
        Assert.Contains("plugin type=\"nope\" failed (del)", e.Message);
        Assert.Contains("[/x/one /x/two]", e.Message);
    }

    [Theory]
    [InlineData("../outside/p")]
    [InlineData("..")]
    [InlineData("p\0")]
    public void Find_refuses_a_type_that_is_not_a_bare_name_even_when_it_resolves_to_an_executable(string type)
    {
        Script("outside", "p", "exit 0");
        Script("bin", "p", "exit 0");
        var executor = new CniPluginExecutor([Path.Combine(_root, "bin")]);

        var e = Assert.Throws<CniPluginException>(() => executor.Find(type, "ADD"));

        Assert.Contains("not a bare binary name", e.Message);
        Assert.False(executor.Exists(type));
    }

    [Fact]
    public async Task Exec_refuses_a_plugin_config_whose_type_is_a_path_without_running_it()
    {
        var marker = Path.Combine(_root, "ran");
        var outside = Script("outside", "p", $"touch {marker}");
        Script("bin", "other", "exit 0");
        var executor = new CniPluginExecutor([Path.Combine(_root, "bin")]);

        await Assert.ThrowsAsync<CniPluginException>(() =>
            executor.ExecAsync("ADD", new JsonObject { ["type"] = "../outside/p" }, Invocation, CancellationToken.None));

        Assert.True(File.Exists(outside));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Exec_sends_the_config_on_stdin_and_returns_the_printed_result()
    {
        Script("bin", "echoer", """cat > /dev/null; printf '{"cniVersion":"1.0.0","ips":[{"address":"10.9.9.9/32"}],"cmd":"%s"}' "$CNI_COMMAND" """);
        var executor = new CniPluginExecutor([Path.Combine(_root, "bin")]);

        var result = await executor.ExecAsync("ADD", new JsonObject { ["type"] = "echoer" }, Invocation, CancellationToken.None);

        Assert.NotNull(result);
        Assert.Equal("ADD", result["cmd"]!.GetValue<string>());
        Assert.Equal(["10.9.9.9"], CniResult.PodIps(result));
    }

    [Fact]
    public async Task Exec_returns_null_when_the_plugin_prints_nothing()
    {
        Script("bin", "quiet", "cat > /dev/null");
        var executor = new CniPluginExecutor([Path.Combine(_root, "bin")]);

        Assert.Null(await executor.ExecAsync("DEL", new JsonObject { ["type"] = "quiet" }, Invocation, CancellationToken.None));
    }

    [Fact]
    public async Task Plugin_that_exits_without_reading_stdin_still_reports_its_error()
    {
        Script("bin", "early", """echo '{"code":4,"msg":"bad config"}'; exit 1""");
        var executor = new CniPluginExecutor([Path.Combine(_root, "bin")]);
        var big = new JsonObject { ["type"] = "early", ["padding"] = new string('x', 1 << 20) };

        var e = await Assert.ThrowsAsync<CniPluginException>(() => executor.ExecAsync("ADD", big, Invocation, CancellationToken.None));

        Assert.Contains("bad config", e.Message);
    }

    [Fact]
    public void Error_message_is_msg_details_and_code_of_the_cni_error()
    {
        var text = CniPluginExecutor.ErrorMessage(new CommandResult(1, """{"cniVersion":"1.0.0","code":7,"msg":"invalid network config","details":"bridge name too long"}""", "noise"));

        Assert.Equal("invalid network config; bridge name too long (CNI error code 7)", text);
    }

    [Fact]
    public void Error_message_without_details_or_code_is_just_msg()
    {
        Assert.Equal("nope", CniPluginExecutor.ErrorMessage(new CommandResult(1, """{"msg":"nope","details":""}""", "")));
    }

    [Fact]
    public void Error_message_falls_back_to_stderr_then_stdout_then_the_exit_code()
    {
        Assert.Equal("exited with 2: segfault", CniPluginExecutor.ErrorMessage(new CommandResult(2, "partial", " segfault\n")));
        Assert.Equal("exited with 2: partial output", CniPluginExecutor.ErrorMessage(new CommandResult(2, "partial output\n", "")));
        Assert.Equal("exited with 2: {\"code\":1}", CniPluginExecutor.ErrorMessage(new CommandResult(2, "{\"code\":1}", "")));
        Assert.Equal("exited with 9 and printed nothing", CniPluginExecutor.ErrorMessage(new CommandResult(9, "", "")));
    }
}
