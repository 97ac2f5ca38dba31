using Crisp.Runtime.Network;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

public sealed class CniConfigProbeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-cni-probe-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string Conflist(string name) => $$"""{"cniVersion":"1.0.0","name":"{{name}}","plugins":[{"type":"bridge"}]}""";

    [Fact]
    public void First_valid_file_in_lexical_order_wins_whatever_its_extension()
    {
        Write("20-b.conflist", Conflist("b"));
        Write("10-a.conf", """{"cniVersion":"1.0.0","name":"a","type":"ptp"}""");
        Write("30-c.json", """{"cniVersion":"1.0.0","name":"c","type":"ptp"}""");

        var state = CniConfigProbe.Probe(_dir);

        Assert.True(state.Ready);
        Assert.Equal("a", state.NetworkName);
        Assert.Equal(Path.Combine(_dir, "10-a.conf"), state.ConfigFile);
        Assert.Empty(state.SkippedFiles);
        Assert.Equal("", state.Reason);
    }

    [Fact]
    public void Order_is_ordinal_not_culture_or_numeric()
    {
        // Ordinal: uppercase sorts before lowercase, "100" before "20".
        Write("b.conflist", Conflist("lower"));
        Write("B.conflist", Conflist("upper"));
        Write("20-x.conflist", Conflist("twenty"));
        Write("100-x.conflist", Conflist("hundred"));

        Assert.Equal("hundred", CniConfigProbe.Probe(_dir).NetworkName);
        Assert.Equal(
            ["100-x.conflist", "20-x.conflist", "B.conflist", "b.conflist"],
            CniConfigProbe.CandidateFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Other_extensions_are_not_candidates()
    {
        Write("00-a.conflist.bak", Conflist("bak"));
        Write("00-b.yaml", Conflist("yaml"));
        Write("00-c.CONF", """{"name":"upper-ext","type":"ptp"}""");
        Write("00-d.conflist.tmp", Conflist("tmp"));
        Write("99-real.conflist", Conflist("real"));

        var state = CniConfigProbe.Probe(_dir);

        Assert.Equal("real", state.NetworkName);
        Assert.Empty(state.SkippedFiles);
    }

    [Fact]
    public void Malformed_files_are_skipped_with_their_reasons()
    {
        var broken = Write("10-broken.conflist", "{ not json");
        var noName = Write("20-noname.conflist", """{"cniVersion":"1.0.0","plugins":[{"type":"bridge"}]}""");
        var noType = Write("30-notype.conf", """{"cniVersion":"1.0.0","name":"x"}""");
        var path = Write("40-path.conflist", """{"name":"x","plugins":[{"type":"/bin/sh"}]}""");
        Write("50-good.conflist", Conflist("good"));

        var state = CniConfigProbe.Probe(_dir);

        Assert.True(state.Ready);
        Assert.Equal("good", state.NetworkName);
        Assert.Equal(4, state.SkippedFiles.Count);
        Assert.StartsWith(broken + ": invalid JSON", state.SkippedFiles[0]);
        Assert.StartsWith(noName + ":", state.SkippedFiles[1]);
        Assert.Contains("\"name\"", state.SkippedFiles[1]);
        Assert.StartsWith(noType + ":", state.SkippedFiles[2]);
        Assert.Contains("\"type\"", state.SkippedFiles[2]);
        Assert.StartsWith(path + ":", state.SkippedFiles[3]);
        Assert.Contains("/bin/sh", state.SkippedFiles[3]);
    }

    [Fact]
    public void Only_malformed_files_means_not_ready_with_every_reason_in_the_message()
    {
        var a = Write("10-a.conflist", "[]");
        var b = Write("20-b.conf", """{"name":"b"}""");

        var state = CniConfigProbe.Probe(_dir);

        Assert.False(state.Ready);
        Assert.Null(state.Config);
        Assert.Null(state.ConfigFile);
        Assert.Equal(CniConfigProbe.NotReadyReason, state.Reason);
        Assert.Equal(2, state.SkippedFiles.Count);
        Assert.Contains(_dir, state.Message);
        Assert.Contains(a, state.Message);
        Assert.Contains(b, state.Message);
        Assert.Contains("not a JSON object", state.Message);
    }

    [Fact]
    public void Empty_directory_is_not_ready()
    {
        var state = CniConfigProbe.Probe(_dir);

        Assert.False(state.Ready);
        Assert.Equal("NetworkPluginNotReady", state.Reason);
        Assert.Contains($"no valid CNI network config found in {_dir}", state.Message);
        Assert.Empty(state.SkippedFiles);
    }

    [Fact]
    public void Missing_directory_is_not_ready_and_says_so()
    {
        var missing = Path.Combine(_dir, "absent");

        var state = CniConfigProbe.Probe(missing);

        Assert.False(state.Ready);
        Assert.Contains(missing, state.Message);
        Assert.Contains("does not exist", state.Message);
        Assert.Empty(CniConfigProbe.CandidateFiles(missing));
    }

    [Fact]
    public void Directories_named_like_configs_are_not_candidates()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "00-dir.conflist"));
        Write("10-ok.conflist", Conflist("ok"));

        var state = CniConfigProbe.Probe(_dir);

        Assert.Equal("ok", state.NetworkName);
        Assert.Empty(state.SkippedFiles);
    }

    [Fact]
    public void Dangling_symlink_is_skipped_as_unreadable()
    {
        var link = Path.Combine(_dir, "05-link.conflist");
        File.CreateSymbolicLink(link, Path.Combine(_dir, "absent-target"));
        Write("10-ok.conflist", Conflist("ok"));

        var state = CniConfigProbe.Probe(_dir);

        Assert.Equal("ok", state.NetworkName);
        Assert.StartsWith(link + ": unreadable", Assert.Single(state.SkippedFiles));
    }

    [Fact]
    public void Symlinked_config_is_read_through_the_link()
    {
        var target = Path.Combine(_dir, "target.data");
        File.WriteAllText(target, Conflist("linked"));
        File.CreateSymbolicLink(Path.Combine(_dir, "10-link.conflist"), target);

        Assert.Equal("linked", CniConfigProbe.Probe(_dir).NetworkName);
    }
}
