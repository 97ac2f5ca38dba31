using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    /// <summary>An absent image is an empty response, not an error (the kubelet pulls on that answer).</summary>
    public override async Task<ImageStatusResponse> ImageStatus(ImageStatusRequest request, ServerCallContext context)
    {
        string wanted = request.Image?.Image ?? "";
        if (string.IsNullOrWhiteSpace(wanted))
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, "ImageStatusRequest.image.image is empty");
        }
        string handler = RuntimeHandler(request.Image, "ImageStatusRequest.image.runtime_handler");
        ImageRecord? image = await images.FindAsync(wanted, context.CancellationToken);
        var response = new ImageStatusResponse();
        if (image is null) return response;
        response.Image = ImageMessages.ToCri(image, handler);
        if (request.Verbose) response.Info["info"] = ImageMessages.VerboseInfo(image);
        return response;
    }
}
