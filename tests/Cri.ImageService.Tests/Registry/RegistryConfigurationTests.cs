using Crisp.ImageService.Api;
using Crisp.ImageService.References;
using Crisp.ImageService.Registry;
using Xunit;

namespace Crisp.ImageService.Tests.RegistryTests;

public sealed class RegistryConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-regconf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RegistryConfiguration FromText(string text) => RegistryConfiguration.FromTexts([(text, "/etc/containers/registries.conf")]);

    private static IReadOnlyList<RegistryEndpoint> Endpoints(RegistryConfiguration configuration, string reference) =>
        configuration.EndpointsFor(ImageReference.Parse(reference));

    [Fact]
    public void WithoutRulesTheRegistryItselfIsUsedAndDockerHubMapsToItsApiHost()
    {
        Assert.Equal([new RegistryEndpoint("registry-1.docker.io", "library/busybox", false, false)], Endpoints(RegistryConfiguration.Empty, "busybox"));
        Assert.Equal([new RegistryEndpoint("quay.io", "a/b", false, false)], Endpoints(RegistryConfiguration.Empty, "quay.io/a/b:1"));
    }

    [Fact]
    public void MirrorsComeFirstInOrderThenTheRewrittenLocation()
    {
        var configuration = FromText("""
            unqualified-search-registries = ["example.com", "quay.io"]

            [[registry]]
            prefix = "example.com/foo"
            insecure = false
            blocked = false
            location = "internal.example.net/bar"

            [[registry.mirror]]
            location = "mirror-0.local/mirror-for-foo"

            [[registry.mirror]]
            location = "mirror-1.local:5000/mirrors/foo"
            insecure = true
            """);
        Assert.Equal(["example.com", "quay.io"], configuration.UnqualifiedSearchRegistries);
        Assert.Equal(
            [
                new RegistryEndpoint("mirror-0.local", "mirror-for-foo/image", false, true),
                new RegistryEndpoint("mirror-1.local:5000", "mirrors/foo/image", true, true),
                new RegistryEndpoint("internal.example.net", "bar/image", false, false),
            ],
            Endpoints(configuration, "example.com/foo/image:latest"));
    }

    [Fact]
    public void PrefixMatchesOnlyAtPathBoundaries()
    {
        var configuration = FromText("""
            [[registry]]
            prefix = "example.com/foo"
            location = "other.example/x"
            """);
        Assert.Equal("example.com", Endpoints(configuration, "example.com/foobar/image").Single().Host);
        Assert.Equal("other.example", Endpoints(configuration, "example.com/foo").Single().Host);
        Assert.Equal("x", Endpoints(configuration, "example.com/foo:tag").Single().Repository);
        // A host-only prefix does not match a different port of the same host.
        var hostOnly = FromText("""
            [[registry]]
            location = "example.com"
            insecure = true
            """);
        Assert.True(Endpoints(hostOnly, "example.com/a").Single().Insecure);
        Assert.False(Endpoints(hostOnly, "example.com:5000/a").Single().Insecure);
    }

    [Fact]
    public void LongestPrefixWins()
    {
        var configuration = FromText("""
            [[registry]]
            prefix = "docker.io"
            location = "hub-mirror.local"

            [[registry]]
            prefix = "docker.io/library/busybox"
            location = "bb.local/special/busybox"
            """);
        Assert.Equal(new RegistryEndpoint("bb.local", "special/busybox", false, false), Endpoints(configuration, "busybox:1.36").Single());
        Assert.Equal(new RegistryEndpoint("hub-mirror.local", "library/alpine", false, false), Endpoints(configuration, "alpine").Single());
    }

    [Fact]
    public void WildcardPrefixMatchesSubdomainsOnlyAndExactPrefixBeatsIt()
    {
        var configuration = FromText("""
            [[registry]]
            prefix = "*.example.com"
            insecure = true

            [[registry.mirror]]
            location = "cache.local/proxy"

            [[registry]]
            prefix = "special.example.com"
            blocked = false
            """);
        Assert.Equal(
            [new RegistryEndpoint("cache.local", "proxy/app", false, true), new RegistryEndpoint("a.example.com", "app", true, false)],
            Endpoints(configuration, "a.example.com/app"));
        Assert.Equal(new RegistryEndpoint("b.c.example.com:5000", "app", true, false), Endpoints(configuration, "b.c.example.com:5000/app").Last());
        Assert.Equal(new RegistryEndpoint("example.com", "app", false, false), Endpoints(configuration, "example.com/app").Single());
        Assert.Equal(new RegistryEndpoint("special.example.com", "app", false, false), Endpoints(configuration, "special.example.com/app").Single());
    }

    [Fact]
    public void BlockedRegistryIsPermissionDenied()
    {
        var configuration = FromText("""
            [[registry]]
            prefix = "evil.example"
            blocked = true
            """);
        var error = Assert.Throws<ImageServiceException>(() => Endpoints(configuration, "evil.example/x:1"));
        Assert.Equal(ImageErrorKind.PermissionDenied, error.Kind);
        Assert.Contains("registry evil.example is blocked by registries.conf", error.Message);
    }

    [Fact]
    public void DigestOnlyMirrorsAreSkippedForTagPulls()
    {
        var configuration = FromText("""
            [[registry]]
            prefix = "docker.io"
            mirror-by-digest-only = true
            [[registry.mirror]]
            location = "m1.local"

            [[registry]]
            prefix = "quay.io"
            [[registry.mirror]]
            location = "m2.local"
            pull-from-mirror = "digest-only"
            [[registry.mirror]]
            location = "m3.local"
            pull-from-mirror = "tag-only"
            """);
        string digest = "@sha256:" + new string('a', 64);
        Assert.Single(Endpoints(configuration, "busybox"));
        Assert.Equal("m1.local", Endpoints(configuration, "busybox" + digest)[0].Host);
        Assert.Equal(["m3.local", "quay.io"], Endpoints(configuration, "quay.io/a:1").Select(e => e.Host));
        Assert.Equal(["m2.local", "quay.io"], Endpoints(configuration, "quay.io/a" + digest).Select(e => e.Host));
    }

    [Fact]
    public void LoadReadsDropInsInLexicalOrderAndLaterPrefixesReplaceEarlierOnes()
    {
        string main = Path.Combine(_dir, "registries.conf");
        string dropIns = Path.Combine(_dir, "registries.conf.d");
        Directory.CreateDirectory(dropIns);
        File.WriteAllText(main, """
            [[registry]]
            prefix = "docker.io"
            [[registry.mirror]]
            location = "main-mirror.local"

            [[registry]]
            prefix = "quay.io"
            insecure = true
            """);
        File.WriteAllText(Path.Combine(dropIns, "20-late.conf"), """
            [[registry]]
            prefix = "docker.io"
            [[registry.mirror]]
            location = "late-mirror.local"
            """);
        File.WriteAllText(Path.Combine(dropIns, "10-early.conf"), """
            [[registry]]
            prefix = "docker.io"
            blocked = true
            """);
        File.WriteAllText(Path.Combine(dropIns, "30-ignored.txt"), "this is not TOML and not a .conf file [");

        var configuration = RegistryConfiguration.Load(main, dropIns);
        Assert.Equal(["late-mirror.local", "registry-1.docker.io"], Endpoints(configuration, "busybox").Select(e => e.Host));
        Assert.True(Endpoints(configuration, "quay.io/a").Single().Insecure);
    }

    [Fact]
    public void MissingFilesMeanNoRules()
    {
        var configuration = RegistryConfiguration.Load(Path.Combine(_dir, "absent.conf"), Path.Combine(_dir, "absent.d"));
        Assert.Empty(configuration.Rules);
    }

    [Theory]
    [InlineData("[[registry]]\nprefix = \"a.example\"\ninsecure = \"yes\"\n", "key \"insecure\" must be true or false")]
    [InlineData("[[registry]]\ninsecure = true\n", "needs \"prefix\" or \"location\"")]
    [InlineData("[[registry]]\nprefix = \"a.example\"\n[[registry.mirror]]\ninsecure = true\n", "mirror #1: key \"location\" is required")]
    [InlineData("[[registry]]\nprefix = \"a.example\"\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = \"sometimes\"\n", "pull-from-mirror")]
    [InlineData("[[registry]]\nprefix = \"*.a/b\"\n", "wildcard")]
    [InlineData("[[registry]]\nprefix = \"https://a.example\"\n", "key \"prefix\"")]
    [InlineData("[registries.search]\nregistries = [\"a\"]\n", "version 1 format")]
    [InlineData("registry = 5\n", "array of tables")]
    [InlineData("unqualified-search-registries = \"docker.io\"\n", "unqualified-search-registries")]
    [InlineData("[[registry]\nprefix = \"x\"\n", "not valid TOML")]
    [InlineData("[[registry]]\nprefix = \"a.example\"\n[[registry]]\nprefix = \"a.example\"\n", "more than once")]
    public void BadFilesAreReportedWithFileAndKey(string text, string fragment)
    {
        string path = Path.Combine(_dir, "bad.conf");
        File.WriteAllText(path, text);
        var error = Assert.Throws<ImageServiceException>(() => RegistryConfiguration.Load(path, null));
        Assert.Equal(ImageErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(path, error.Message);
        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void LocationRewriteToDockerHubAddsLibraryAndApiHost()
    {
        var configuration = FromText("""
            [[registry]]
            prefix = "internal.example/hub"
            location = "docker.io"
            """);
        Assert.Equal(new RegistryEndpoint("registry-1.docker.io", "library/busybox", false, false), Endpoints(configuration, "internal.example/hub/busybox").Single());
    }
}
