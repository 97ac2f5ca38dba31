using Crisp.ImageService.Manifests;
using Xunit;

namespace Crisp.ImageService.Tests.ManifestsTests;

public class PlatformMatcherTests
{
    private static Descriptor Entry(char digit, string os, string arch, string? variant = null, string mediaType = MediaTypes.OciManifest) =>
        new(mediaType, "sha256:" + new string(digit, 64), 100, Platform: new Platform(os, arch, variant));

    private static readonly IReadOnlyList<Descriptor> Index =
    [
        Entry('1', "linux", "amd64"),
        Entry('2', "linux", "arm", "v6"),
        Entry('3', "linux", "arm", "v7"),
        Entry('4', "linux", "arm64", "v8"),
        Entry('5', "windows", "amd64"),
        Entry('6', "unknown", "unknown"),
        Entry('7', "linux", "s390x"),
    ];

    [Theory]
    [InlineData("linux", "amd64", null, '1')]
    [InlineData("linux", "x86_64", null, '1')]
    [InlineData("linux", "arm64", null, '4')]
    [InlineData("linux", "aarch64", null, '4')]
    [InlineData("linux", "arm64", "v8", '4')]
    [InlineData("linux", "arm", null, '3')]
    [InlineData("linux", "arm", "v7", '3')]
    [InlineData("linux", "arm", "v6", '2')]
    [InlineData("linux", "arm", "v8", '3')]
    [InlineData("windows", "amd64", null, '5')]
    [InlineData("linux", "s390x", null, '7')]
    public void PicksTheBestEntry(string os, string arch, string? variant, char expected)
    {
        Descriptor? chosen = PlatformMatcher.Select(Index, new Platform(os, arch, variant));
        Assert.NotNull(chosen);
        Assert.Equal("sha256:" + new string(expected, 64), chosen.Digest);
    }

    [Theory]
    [InlineData("linux", "ppc64le", null)]
    [InlineData("linux", "arm", "v5")]
    [InlineData("darwin", "arm64", null)]
    public void NoMatchIsNull(string os, string arch, string? variant) =>
        Assert.Null(PlatformMatcher.Select(Index, new Platform(os, arch, variant)));

    [Fact]
    public void EntryWithoutVariantServesAnyVariantButExactWins()
    {
        IReadOnlyList<Descriptor> entries = [Entry('1', "linux", "arm"), Entry('2', "linux", "arm", "v6")];
        // "arm" without variant normalises to v7, so it is the exact match for a v7 node.
        Assert.Equal('1', PlatformMatcher.Select(entries, new Platform("linux", "arm", "v7"))!.Digest[^1]);
        Assert.Equal('2', PlatformMatcher.Select(entries, new Platform("linux", "arm", "v6"))!.Digest[^1]);
    }

    [Fact]
    public void SkipsNonManifestEntriesAndEntriesWithoutPlatform()
    {
        IReadOnlyList<Descriptor> entries =
        [
            new Descriptor(MediaTypes.OciManifest, "sha256:" + new string('1', 64), 1),
            Entry('2', "linux", "amd64", mediaType: "application/vnd.example.attestation+json"),
            Entry('3', "linux", "amd64", mediaType: MediaTypes.DockerManifest),
        ];
        Assert.Equal('3', PlatformMatcher.Select(entries, new Platform("linux", "amd64"))!.Digest[^1]);
    }

    [Fact]
    public void FirstOfEqualCandidatesWins()
    {
        IReadOnlyList<Descriptor> entries = [Entry('1', "linux", "amd64"), Entry('2', "linux", "amd64")];
        Assert.Equal('1', PlatformMatcher.Select(entries, new Platform("linux", "amd64"))!.Digest[^1]);
    }

    [Theory]
    [InlineData("linux", "aarch64", null, "linux/arm64/v8")]
    [InlineData("Linux", "AMD64", null, "linux/amd64/v1")]
    [InlineData("linux", "armhf", null, "linux/arm/v7")]
    [InlineData("linux", "arm", "6", "linux/arm/v6")]
    [InlineData("linux", "i386", null, "linux/386")]
    public void NormalisesPlatforms(string os, string arch, string? variant, string expected) =>
        Assert.Equal(expected, new Platform(os, arch, variant).Normalize().ToString());
}
