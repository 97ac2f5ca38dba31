using Crisp.Runtime.Network;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

public sealed class CniConfigSourceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-cni-source-").FullName;
    private string ConfDir => Path.Combine(_root, "net.d");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private CniConfigSource NewSource() => new(ConfDir, NullLogger<CniConfigSource>.Instance);

    private void Write(string name, string content, DateTime? mtime = null)
    {
        Directory.CreateDirectory(ConfDir);
        var path = Path.Combine(ConfDir, name);
        File.WriteAllText(path, content);
        if (mtime is { } t) File.SetLastWriteTimeUtc(path, t);
    }

    private static string Conflist(string name) => $$"""{"cniVersion":"1.0.0","name":"{{name}}","plugins":[{"type":"bridge"}]}""";

    [Fact]
    public void File_added_later_is_picked_up_by_the_same_instance()
    {
        var source = NewSource();
        Assert.False(source.Current.Ready);

        Write("10-net.conflist", Conflist("late"));

        var state = source.Current;
        Assert.True(state.Ready);
        Assert.Equal("late", state.NetworkName);
    }

    [Fact]
    public void File_added_to_an_existing_empty_directory_is_picked_up()
    {
        Directory.CreateDirectory(ConfDir);
        var source = NewSource();
        Assert.False(source.Current.Ready);

        Write("10-net.conf", """{"cniVersion":"1.0.0","name":"single","type":"ptp"}""");

        Assert.Equal("single", source.Current.NetworkName);
    }

    [Fact]
    public void Changed_file_is_re_read()
    {
        var t0 = DateTime.UtcNow.AddMinutes(-10);
        Write("10-net.conflist", Conflist("before"), t0);
        var source = NewSource();
        Assert.Equal("before", source.Current.NetworkName);

        Write("10-net.conflist", Conflist("after-the-change"), t0.AddSeconds(5));

        Assert.Equal("after-the-change", source.Current.NetworkName);
    }

    [Fact]
    public void Same_length_rewrite_with_a_new_mtime_is_re_read()
    {
        var t0 = DateTime.UtcNow.AddMinutes(-10);
        Write("10-net.conflist", Conflist("aaaa"), t0);
        var source = NewSource();
        Assert.Equal("aaaa", source.Current.NetworkName);

        Write("10-net.conflist", Conflist("bbbb"), t0.AddSeconds(1));

        Assert.Equal("bbbb", source.Current.NetworkName);
    }

    [Fact]
    public void A_rewrite_that_keeps_size_and_mtime_is_seen_on_Reread()
    {
        var t0 = DateTime.UtcNow.AddMinutes(-10);
        Write("10-net.conflist", Conflist("aaaa"), t0);
        var source = NewSource();
        Assert.Equal("aaaa", source.Current.NetworkName);

        Write("10-net.conflist", Conflist("bbbb"), t0);

        Assert.Equal("aaaa", source.Current.NetworkName);
        Assert.Equal("bbbb", source.Reread().NetworkName);
        Assert.Equal("bbbb", source.Current.NetworkName);
    }

    [Fact]
    public void Removed_file_falls_back_to_the_next_then_to_not_ready()
    {
        Write("10-first.conflist", Conflist("first"));
        Write("20-second.conflist", Conflist("second"));
        var source = NewSource();
        Assert.Equal("first", source.Current.NetworkName);

        File.Delete(Path.Combine(ConfDir, "10-first.conflist"));
        Assert.Equal("second", source.Current.NetworkName);

        File.Delete(Path.Combine(ConfDir, "20-second.conflist"));
        var state = source.Current;
        Assert.False(state.Ready);
        Assert.Equal(CniConfigProbe.NotReadyReason, state.Reason);
    }

    [Fact]
    public void Broken_file_fixed_later_becomes_ready()
    {
        Write("10-net.conflist", "{ \"name\": ");
        var source = NewSource();
        var broken = source.Current;
        Assert.False(broken.Ready);
        Assert.Single(broken.SkippedFiles);

        Write("10-net.conflist", Conflist("fixed"));

        var fixedState = source.Current;
        Assert.True(fixedState.Ready);
        Assert.Equal("fixed", fixedState.NetworkName);
        Assert.Empty(fixedState.SkippedFiles);
    }

    [Fact]
    public void Unchanged_directory_returns_the_cached_state()
    {
        Write("10-net.conflist", Conflist("cached"));
        var source = NewSource();

        Assert.Same(source.Current, source.Current);
    }

    [Fact]
    public void Removing_the_whole_directory_makes_it_not_ready()
    {
        Write("10-net.conflist", Conflist("gone"));
        var source = NewSource();
        Assert.True(source.Current.Ready);

        Directory.Delete(ConfDir, recursive: true);

        Assert.False(source.Current.Ready);
    }

    [Fact]
    public void Config_map_style_symlink_swap_is_picked_up()
    {
        // A ConfigMap volume: net.d/10.conflist -> ..data/10.conflist, and an update points ..data at a new directory.
        var v1 = Path.Combine(_root, "v1");
        var v2 = Path.Combine(_root, "v2");
        Directory.CreateDirectory(v1);
        Directory.CreateDirectory(v2);
        File.WriteAllText(Path.Combine(v1, "10.conflist"), Conflist("first-version"));
        File.WriteAllText(Path.Combine(v2, "10.conflist"), Conflist("second"));
        File.SetLastWriteTimeUtc(Path.Combine(v1, "10.conflist"), DateTime.UtcNow.AddMinutes(-5));
        Directory.CreateDirectory(ConfDir);
        var data = Path.Combine(ConfDir, "..data");
        Directory.CreateSymbolicLink(data, v1);
        File.CreateSymbolicLink(Path.Combine(ConfDir, "10.conflist"), Path.Combine("..data", "10.conflist"));
        var source = NewSource();
        Assert.Equal("first-version", source.Current.NetworkName);

        File.Delete(data);
        Directory.CreateSymbolicLink(data, v2);

        Assert.Equal("second", source.Current.NetworkName);
    }

    [Fact]
    public void Directory_created_later_no_longer_says_it_does_not_exist()
    {
        var source = NewSource();
        Assert.Contains("does not exist", source.Current.Message);

        Directory.CreateDirectory(ConfDir);

        Assert.DoesNotContain("does not exist", source.Current.Message);
    }

    [Fact]
    public void A_symlink_loop_in_the_conf_dir_is_skipped_not_thrown()
    {
        Directory.CreateDirectory(ConfDir);
        File.CreateSymbolicLink(Path.Combine(ConfDir, "05-loop.conflist"), Path.Combine(ConfDir, "05-loop.conflist"));
        File.WriteAllText(Path.Combine(ConfDir, "10-ok.conflist"), """{"cniVersion":"1.0.0","name":"ok","plugins":[{"type":"loopback"}]}""");

        var state = NewSource().Current;

        Assert.True(state.Ready);
        Assert.Equal("ok", state.NetworkName);
        Assert.Contains(state.SkippedFiles, f => f.Contains("05-loop.conflist", StringComparison.Ordinal));
    }
}
