using Xunit;
using Crisp.Runtime.State;
using Google.Protobuf.Collections;

namespace Crisp.Runtime.Tests.State;

public sealed class LabelSelectorTests
{
    private static MapField<string, string> Map(params (string K, string V)[] pairs)
    {
        var map = new MapField<string, string>();
        foreach (var (k, v) in pairs) map[k] = v;
        return map;
    }

    [Fact]
    public void Empty_or_absent_selector_matches_everything()
    {
        Assert.True(LabelSelector.Matches((MapField<string, string>?)null, Map(("a", "1"))));
        Assert.True(LabelSelector.Matches(Map(), Map()));
    }

    [Fact]
    public void Every_selector_pair_must_match_exactly()
    {
        var labels = Map(("app", "web"), ("tier", "front"));
        Assert.True(LabelSelector.Matches(Map(("app", "web")), labels));
        Assert.True(LabelSelector.Matches(Map(("app", "web"), ("tier", "front")), labels));
        Assert.False(LabelSelector.Matches(Map(("app", "db")), labels));
        Assert.False(LabelSelector.Matches(Map(("app", "web"), ("zone", "a")), labels));
        Assert.False(LabelSelector.Matches(Map(("app", "")), labels));
    }
}
