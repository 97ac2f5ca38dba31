using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>Kubernetes' command/args override rules over the image's ENTRYPOINT and CMD.</summary>
internal static class ProcessArgs
{
    public static List<string> Resolve(ContainerConfig config, ImageConfig image)
    {
        List<string> args;
        if (config.Command.Count > 0)
        {
            // A pod command replaces ENTRYPOINT and discards the image's CMD.
            args = [.. config.Command, .. config.Args];
        }
        else
        {
            args = [.. image.Entrypoint, .. config.Args.Count > 0 ? config.Args : image.Cmd];
        }

        if (args.Count == 0)
            throw RuntimeException.InvalidField("config.command", "no command specified: the image has no ENTRYPOINT or CMD and the config sets no command or args");
        return args;
    }
}
