using Xunit;
using Crisp.Runtime.Api;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Tests.State;

public sealed class ObjectIdsTests
{
    [Fact]
    public void New_ids_are_64_lower_hex_and_distinct()
    {
        var a = ObjectIds.New();
        var b = ObjectIds.New();
        Assert.Matches("^[0-9a-f]{64}$", a);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Resolve_accepts_full_ids_and_unique_prefixes()
    {
        string[] ids = ["abc123", "abd456", "ffff"];
        Assert.Equal("abc123", ObjectIds.Resolve("abc123", ids, "container"));
        Assert.Equal("abd456", ObjectIds.Resolve("abd", ids, "container"));
        Assert.Null(ObjectIds.Resolve("0", ids, "container"));
        Assert.Null(ObjectIds.Resolve("", ids, "container"));
    }

    [Fact]
    public void Resolve_refuses_an_ambiguous_prefix_naming_both()
    {
        var ex = Assert.Throws<RuntimeException>(() => ObjectIds.Resolve("ab", ["abc", "abd"], "container"));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("abc", ex.Message);
        Assert.Contains("abd", ex.Message);
    }
}
