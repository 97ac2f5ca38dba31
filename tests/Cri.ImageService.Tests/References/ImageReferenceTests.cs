using Xunit;
using Crisp.ImageService.Api;
using Crisp.ImageService.References;

namespace Crisp.ImageService.Tests.ReferencesTests;

public class ImageReferenceTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("busybox", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("busybox:1.36", "docker.io", "library/busybox", "1.36", null, "docker.io/library/busybox:1.36")]
    [InlineData("library/busybox", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("someuser/app", "docker.io", "someuser/app", "latest", null, "docker.io/someuser/app:latest")]
    [InlineData("docker.io/busybox", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("index.docker.io/busybox", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("registry-1.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", null, "docker.io/library/busybox:1")]
    [InlineData("quay.io/coreos/etcd:v3.5", "quay.io", "coreos/etcd", "v3.5", null, "quay.io/coreos/etcd:v3.5")]
    [InlineData("localhost/app", "localhost", "app", "latest", null, "localhost/app:latest")]
    [InlineData("localhost:5000/a/b/c:t", "localhost:5000", "a/b/c", "t", null, "localhost:5000/a/b/c:t")]
    [InlineData("127.0.0.1:5000/busybox", "127.0.0.1:5000", "busybox", "latest", null, "127.0.0.1:5000/busybox:latest")]
    [InlineData("[::1]:5000/busybox:x", "[::1]:5000", "busybox", "x", null, "[::1]:5000/busybox:x")]
    [InlineData("registry.k8s.io/pause:3.10", "registry.k8s.io", "pause", "3.10", null, "registry.k8s.io/pause:3.10")]
    [InlineData("a/b_c__d-e---f.g", "docker.io", "a/b_c__d-e---f.g", "latest", null, "docker.io/a/b_c__d-e---f.g:latest")]
    [InlineData("busybox:_Tag.with-Mixed_123", "docker.io", "library/busybox", "_Tag.with-Mixed_123", null, "docker.io/library/busybox:_Tag.with-Mixed_123")]
    public void ParsesAndNormalises(string text, string registry, string repository, string? tag, string? digest, string canonical)
    {
        ImageReference reference = ImageReference.Parse(text);
        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest);
        Assert.Equal(canonical, reference.ToString());
        Assert.Equal(registry + "/" + repository, reference.Name);
    }

    [Fact]
    public void DigestOnlyReferenceHasNoTag()
    {
        ImageReference reference = ImageReference.Parse("busybox@sha256:" + Hex);
        Assert.Null(reference.Tag);
        Assert.Equal("sha256:" + Hex, reference.Digest);
        Assert.Equal("docker.io/library/busybox@sha256:" + Hex, reference.ToString());
    }

    [Fact]
    public void TagAndDigestAreBothKept()
    {
        ImageReference reference = ImageReference.Parse("127.0.0.1:5000/app:v1@sha256:" + Hex);
        Assert.Equal("127.0.0.1:5000", reference.Registry);
        Assert.Equal("v1", reference.Tag);
        Assert.Equal("sha256:" + Hex, reference.Digest);
        Assert.Equal("127.0.0.1:5000/app:v1@sha256:" + Hex, reference.ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Busybox", "lowercase")]
    [InlineData("docker.io/Library/busybox", "lowercase")]
    [InlineData("busybox:", "tag")]
    [InlineData("busybox:-bad", "tag")]
    [InlineData("busybox@sha256:abc", "64 hex")]
    [InlineData("busybox@sha256:" + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "lowercase hex")]
    [InlineData("busybox@md5:0123456789abcdef0123456789abcdef", "algorithm")]
    [InlineData("a//b", "empty path component")]
    [InlineData("a/b-/c", "path component")]
    [InlineData("a/.b", "path component")]
    [InlineData("host:99999/app", "port")]
    [InlineData("-bad.host/app", "host")]
    [InlineData("busy box", "whitespace")]
    [InlineData(Hex, "image id")]
    public void RefusesInvalidReferencesNamingThem(string text, string reasonFragment)
    {
        var error = Assert.Throws<ImageServiceException>(() => ImageReference.Parse(text));
        Assert.Equal(ImageErrorKind.InvalidArgument, error.Kind);
        Assert.Contains($"invalid image reference \"{text}\"", error.Message);
        Assert.Contains(reasonFragment, error.Message);
        Assert.False(ImageReference.TryParse(text, out _));
    }

    [Fact]
    public void UppercaseFirstComponentIsAHostLikeDocker()
    {
        // Docker treats an upper-case first component as a host, because repositories cannot contain upper case.
        ImageReference reference = ImageReference.Parse("MyRegistry/app");
        Assert.Equal("MyRegistry", reference.Registry);
        Assert.Equal("app", reference.Repository);
    }

    [Fact]
    public void TagLongerThan128IsRefused()
    {
        Assert.False(ImageReference.TryParse("busybox:" + new string('a', 129), out _));
        Assert.True(ImageReference.TryParse("busybox:" + new string('a', 128), out _));
    }

    [Fact]
    public void WithDigestAndWithoutDigestRoundTrip()
    {
        ImageReference tagged = ImageReference.Parse("busybox:1.36");
        ImageReference pinned = tagged.WithDigest("sha256:" + Hex);
        Assert.Equal("docker.io/library/busybox:1.36@sha256:" + Hex, pinned.ToString());
        Assert.Equal(tagged, pinned.WithoutDigest());
        Assert.Equal("docker.io/library/busybox@sha256:" + Hex, pinned.WithoutTag().ToString());
        Assert.Equal("docker.io/library/busybox@sha256:" + Hex, pinned.DigestedName);
        Assert.Equal("docker.io/library/busybox:1.36", pinned.TaggedName);
        Assert.Equal(ImageErrorKind.InvalidArgument, Assert.Throws<ImageServiceException>(() => tagged.WithDigest("sha256:nothex")).Kind);
    }

    [Fact]
    public void EqualityIsByValue()
    {
        Assert.Equal(ImageReference.Parse("busybox"), ImageReference.Parse("docker.io/library/busybox:latest"));
        Assert.Equal(ImageReference.Parse("busybox").GetHashCode(), ImageReference.Parse("index.docker.io/library/busybox").GetHashCode());
        Assert.NotEqual(ImageReference.Parse("busybox:1"), ImageReference.Parse("busybox:2"));
    }

    [Fact]
    public void DigestsValidateAndCompute()
    {
        Assert.True(Digests.IsValid("sha256:" + Hex));
        Assert.False(Digests.IsValid("sha256:" + Hex[..63]));
        Assert.Equal("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Digests.Sha256Of([]));
    }
}
