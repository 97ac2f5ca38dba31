using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;
using Xunit;

namespace Crisp.Runtime.Tests.Oci;

public sealed class ProcessArgsTests
{
    public static TheoryData<string[], string[], string[], string[], string[]> Cases => new()
    {
        // image entrypoint, image cmd, config command, config args, expected
        { ["/ep"], ["c1"], [], [], ["/ep", "c1"] },
        { ["/ep"], ["c1"], [], ["a1"], ["/ep", "a1"] },
        { ["/ep"], ["c1"], ["/cmd"], [], ["/cmd"] },
        { ["/ep"], ["c1"], ["/cmd"], ["a1", "a2"], ["/cmd", "a1", "a2"] },
        { [], ["/bin/sh", "-c", "x"], [], [], ["/bin/sh", "-c", "x"] },
        { [], ["/bin/sh"], [], ["/bin/echo", "hi"], ["/bin/echo", "hi"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void KubernetesOverrideRules(string[] entrypoint, string[] cmd, string[] command, string[] args, string[] expected)
    {
        var config = SpecFixture.Config();
        config.Command.AddRange(command);
        config.Args.AddRange(args);
        var image = SpecFixture.ImageConfig(entrypoint: entrypoint, cmd: cmd);

        Assert.Equal(expected, ProcessArgs.Resolve(config, image));
    }

    [Fact]
    public void NothingToRunIsInvalidArgument()
    {
        var e = Assert.Throws<RuntimeException>(() => ProcessArgs.Resolve(SpecFixture.Config(), SpecFixture.ImageConfig(cmd: [])));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("no command specified", e.Message);
    }
}
