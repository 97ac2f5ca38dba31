using Crisp.ImageService.Registry;
using Xunit;

namespace Crisp.ImageService.Tests.RegistryTests;

public class AuthChallengeTests
{
    [Fact]
    public void ParsesDockerHubBearerChallenge()
    {
        var challenge = Assert.Single(AuthChallenge.Parse(
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\""));
        Assert.True(challenge.IsBearer);
        Assert.Equal("https://auth.docker.io/token", challenge.Realm);
        Assert.Equal("registry.docker.io", challenge.Service);
        Assert.Equal("repository:library/busybox:pull", challenge.Scope);
    }

    [Fact]
    public void ParsesBasicChallengeCaseInsensitively()
    {
        var challenge = Assert.Single(AuthChallenge.Parse("basic Realm=\"Registry Realm\""));
        Assert.True(challenge.IsBasic);
        Assert.Equal("Registry Realm", challenge.Realm);
    }

    [Fact]
    public void ParsesSeveralChallengesInOneHeader()
    {
        var challenges = AuthChallenge.Parse("Bearer realm=\"https://a/token\", service=\"svc\", Basic realm=\"b\"");
        Assert.Equal(2, challenges.Count);
        Assert.Equal("svc", challenges[0].Service);
        Assert.True(challenges[1].IsBasic);
        Assert.Equal("b", challenges[1].Realm);
    }

    [Fact]
    public void HandlesEscapesUnquotedValuesAndSpaces()
    {
        var challenge = Assert.Single(AuthChallenge.Parse("Bearer  realm = \"https://a/t?x=\\\"y\\\"\" , service=plain.token , scope=\"repository:a/b:pull,push\""));
        Assert.Equal("https://a/t?x=\"y\"", challenge.Realm);
        Assert.Equal("plain.token", challenge.Service);
        Assert.Equal("repository:a/b:pull,push", challenge.Scope);
    }

    [Fact]
    public void SchemeWithoutParametersAndGarbage()
    {
        Assert.Empty(AuthChallenge.Parse(""));
        var challenge = Assert.Single(AuthChallenge.Parse("Negotiate"));
        Assert.Equal("Negotiate", challenge.Scheme);
        Assert.Empty(challenge.Parameters);
        var unterminated = Assert.Single(AuthChallenge.Parse("Bearer realm=\"https://a/t"));
        Assert.Null(unterminated.Realm);
    }
}
