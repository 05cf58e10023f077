"""Surface: normals and albedo by photometric stereo, their maps on disk, and the enhancement views (diffuse gain,
specular enhancement) RTI viewers offer."""
