using Crisp.Cri.V1;
using Crisp.Runtime.Oci;
using Google.Protobuf;
using Xunit;

namespace Crisp.Runtime.Tests.Oci;

public sealed class ProcessEnvironmentTests
{
    private static KeyValue Env(string key, string value) => new() { Key = key, Value = ByteString.CopyFromUtf8(value) };

    [Fact]
    public void ConfigOverridesImageByKeyAndKeepsOrder()
    {
        var config = SpecFixture.Config();
        config.Envs.Add(Env("B", "from-pod"));
        config.Envs.Add(Env("C", "new=with=equals"));
        var image = SpecFixture.ImageConfig(env: ["PATH=/opt/bin", "A=1", "B=2"]);

        var env = ProcessEnvironment.Build(config, image, "pod-host");

        Assert.Equal(["HOSTNAME=pod-host", "PATH=/opt/bin", "A=1", "B=from-pod", "C=new=with=equals"], env);
    }

    [Fact]
    public void DefaultPathWhenImageHasNone()
    {
        var env = ProcessEnvironment.Build(SpecFixture.Config(), SpecFixture.ImageConfig(env: ["A=1"]), "h");
        Assert.Contains($"PATH={ProcessEnvironment.DefaultPath}", env);
    }

    [Fact]
    public void PodMayOverrideHostname()
    {
        var config = SpecFixture.Config();
        config.Envs.Add(Env("HOSTNAME", "custom"));
        var env = ProcessEnvironment.Build(config, SpecFixture.ImageConfig(), "pod-host");
        Assert.Single(env, e => e.StartsWith("HOSTNAME=", StringComparison.Ordinal));
        Assert.Contains("HOSTNAME=custom", env);
    }
}
