using Crisp.Runtime.Api;
using Crisp.Runtime.ImageVolumes;
using Xunit;

namespace Crisp.Runtime.Tests.ImageVolumes;

/// <summary>Sub-paths resolve inside the image: its symlinks are followed relative to the image root, never the host's.</summary>
public sealed class ImageSubPathTests : IDisposable
{
    private const string Field = "config.mounts[0].image_sub_path";
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-subpath-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void An_empty_sub_path_is_the_image_root_and_a_plain_one_is_below_it()
    {
        Directory.CreateDirectory(Path.Combine(_root, "usr", "share"));
        Assert.Equal(_root, ImageSubPath.Resolve(_root, "", Field, "img"));
        Assert.Equal(Path.Combine(_root, "usr", "share"), ImageSubPath.Resolve(_root, "usr/share", Field, "img"));
    }

    [Fact]
    public void Symlinks_are_resolved_inside_the_image_root()
    {
        Directory.CreateDirectory(Path.Combine(_root, "etc"));
        File.WriteAllText(Path.Combine(_root, "etc", "passwd"), "root:x:0:0::/:/bin/sh\n");
        File.CreateSymbolicLink(Path.Combine(_root, "abs"), "/etc");
        File.CreateSymbolicLink(Path.Combine(_root, "climb"), "../../../../etc/passwd");

        Assert.Equal(Path.Combine(_root, "etc"), ImageSubPath.Resolve(_root, "abs", Field, "img"));
        Assert.Equal(Path.Combine(_root, "etc", "passwd"), ImageSubPath.Resolve(_root, "climb", Field, "img"));
    }

    [Theory]
    [InlineData("absent")]
    [InlineData("../etc")]
    [InlineData("/etc")]
    public void A_sub_path_outside_or_missing_from_the_image_is_refused_naming_the_field(string subPath)
    {
        var error = Assert.Throws<RuntimeException>(() => ImageSubPath.Resolve(_root, subPath, Field, "img"));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, error.Kind);
        Assert.StartsWith(Field + ":", error.Message);
    }
}
