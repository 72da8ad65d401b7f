-- vo_adql: the SQL functions ADQL geometry and UDFs translate to (ADQL 2.1 sec. 4.2, 4.3;
-- RegTAP 1.1 sec. 9; TAPRegExt 1.0 sec. 2.3 UDF declarations).
--
-- Idempotent: run at every bootstrap; vo.db grants EXECUTE to the read-only query role.
-- Geometry values are plain float8[] in degrees (DALI 1.1 sec. 3.3.5-3.3.7 forms):
--   POINT [ra, dec]; CIRCLE [ra, dec, radius]; POLYGON [ra1, dec1, ..., raN, decN], N >= 3;
-- the kind follows from the length. Polygon edges are minor great-circle arcs; a polygon's
-- interior is the smaller of the two regions its edges bound, whichever way the vertices
-- turn (concave allowed, self-intersecting undefined). The same rules, in numpy, are
-- vo/healpix/sphere.py; the tests compare both with independent computations.
--
-- Point in polygon: with L the region left of the edges and A_L its area (from a triangle
-- fan), sum_i Delta(-p, v_i, v_i+1) = A_L - 4 pi [p in L], where with b = v_i - p and
-- c = v_i+1 - p each term is 2 atan2(-p.(b x c), b.c) (Van Oosterom & Strackee 1983),
-- free of cancellation for tiny polygons. Rounding to a multiple of 4 pi decides.

CREATE SCHEMA IF NOT EXISTS vo_adql;
DROP FUNCTION IF EXISTS vo_adql._left_area(float8[]);  -- replaced by _signed_area

-- ---------------------------------------------------------------- distances and kinds

-- A geometry coordinate or radius in degrees with magnitudes below 1e-30 deg flushed to 0:
-- float8 multiplication raises an error when a product of non-zero factors underflows to
-- zero, which products of the sines and cosines of such values do (inlined and folded).
CREATE OR REPLACE FUNCTION vo_adql.deg(x float8)
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN abs(x) < 1e-30 THEN 0::float8 ELSE x END
$$;

-- Angular distance in degrees (Vincenty's atan2 form: accurate from 0 to 180 degrees).
CREATE OR REPLACE FUNCTION vo_adql.distance(ra1 float8, dec1 float8, ra2 float8, dec2 float8)
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT atan2d(
    sqrt((cosd(dec2) * sind(ra2 - ra1)) ^ 2
         + (cosd(dec1) * sind(dec2) - sind(dec1) * cosd(dec2) * cosd(ra2 - ra1)) ^ 2),
    sind(dec1) * sind(dec2) + cosd(dec1) * cosd(dec2) * cosd(ra2 - ra1))
$$;

CREATE OR REPLACE FUNCTION vo_adql.distance(p1 float8[], p2 float8[])
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT vo_adql.distance(p1[1], p1[2], p2[1], p2[2])
$$;

-- An RA in [0, 360).
CREATE OR REPLACE FUNCTION vo_adql._ra360(ra float8)
RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN r >= 360 THEN 0 ELSE r END FROM (SELECT ra - 360 * floor(ra / 360) AS r) AS t
$$;

-- 'point' | 'circle' | 'polygon'; anything else is an error a person can act on.
CREATE OR REPLACE FUNCTION vo_adql._kind(g float8[])
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  n int := coalesce(array_length(g, 1), 0);
BEGIN
  IF n = 2 THEN RETURN 'point'; END IF;
  IF n = 3 THEN
    IF g[3] < 0 THEN
      RAISE EXCEPTION 'vo_adql: a circle radius must be >= 0 degrees, got %', g[3]
        USING ERRCODE = '22023';
    END IF;
    RETURN 'circle';
  END IF;
  IF n >= 6 AND n % 2 = 0 THEN RETURN 'polygon'; END IF;
  RAISE EXCEPTION 'vo_adql: a geometry needs 2 (point), 3 (circle) or an even number >= 6 '
    '(polygon) of coordinates, got %', n USING ERRCODE = '22023';
END $$;

-- Unit vectors of a polygon's vertices, flattened [x1, y1, z1, x2, ...].
CREATE OR REPLACE FUNCTION vo_adql._vectors(poly float8[])
RETURNS float8[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  v float8[] := '{}';
  i int;
BEGIN
  FOR i IN 1 .. array_length(poly, 1) / 2 LOOP
    IF abs(poly[2 * i]) > 90 THEN
      RAISE EXCEPTION 'vo_adql: polygon vertex % has Dec %, outside -90..90', i, poly[2 * i]
        USING ERRCODE = '22023';
    END IF;
    v := v || ARRAY[cosd(poly[2 * i]) * cosd(poly[2 * i - 1]),
                    cosd(poly[2 * i]) * sind(poly[2 * i - 1]),
                    sind(poly[2 * i])];
  END LOOP;
  RETURN v;
END $$;

-- Signed area (sr) of a polygon's interior from a triangle fan, reduced to (-2 pi, 2 pi]:
-- s >= 0 means the region left of the edges is the interior (area s); s < 0 means the
-- right one is (area -s; the left region then has 4 pi + s). Reducing the signed sum
-- instead of wrapping to [0, 4 pi) keeps tiny clockwise polygons accurate.
CREATE OR REPLACE FUNCTION vo_adql._signed_area(v float8[])
RETURNS float8 LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  n int := array_length(v, 1) / 3;
  s float8 := 0;
  i int;
  ax float8 := v[1]; ay float8 := v[2]; az float8 := v[3];
  bx float8; b_y float8; bz float8; cx float8; cy float8; cz float8;
  num float8; den float8;
BEGIN
  FOR i IN 2 .. n - 1 LOOP
    bx := v[3 * i - 2] - ax; b_y := v[3 * i - 1] - ay; bz := v[3 * i] - az;
    cx := v[3 * i + 1] - ax; cy := v[3 * i + 2] - ay; cz := v[3 * i + 3] - az;
    num := ax * (b_y * cz - bz * cy) + ay * (bz * cx - bx * cz) + az * (bx * cy - b_y * cx);
    -- 1 + a.b + b.c + c.a with b, c restored from the differences
    den := 1 + (ax * (bx + ax) + ay * (b_y + ay) + az * (bz + az))
             + ((bx + ax) * (cx + ax) + (b_y + ay) * (cy + ay) + (bz + az) * (cz + az))
             + ((cx + ax) * ax + (cy + ay) * ay + (cz + az) * az);
    s := s + 2 * atan2(num, den);
  END LOOP;
  RETURN s - 4 * pi() * round(s / (4 * pi()));
END $$;

-- Whether the unit vector p lies inside the polygon with vertex vectors v and signed area la
-- (from _signed_area; the parameter keeps its first name: CREATE OR REPLACE cannot rename).
CREATE OR REPLACE FUNCTION vo_adql._has_point(v float8[], la float8, px float8, py float8, pz float8)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  n int := array_length(v, 1) / 3;
  s float8 := 0;
  i int; j int;
  bx float8; b_y float8; bz float8; cx float8; cy float8; cz float8;
  in_left boolean;
BEGIN
  FOR i IN 1 .. n LOOP
    j := i % n + 1;
    bx := v[3 * i - 2] - px; b_y := v[3 * i - 1] - py; bz := v[3 * i] - pz;
    cx := v[3 * j - 2] - px; cy := v[3 * j - 1] - py; cz := v[3 * j] - pz;
    s := s + 2 * atan2(-(px * (b_y * cz - bz * cy) + py * (bz * cx - bx * cz) + pz * (bx * cy - b_y * cx)),
                       bx * cx + b_y * cy + bz * cz);
  END LOOP;
  in_left := round((CASE WHEN la >= 0 THEN la ELSE 4 * pi() + la END - s) / (4 * pi())) = 1;
  RETURN CASE WHEN la >= 0 THEN in_left ELSE NOT in_left END;
END $$;

-- Point (degrees) inside a polygon value: the exact test the fast path refines with. One
-- self-contained loop (no helper calls, no array building): fan area and winding sum together;
-- the winding numerator -p.((v_i - p) x (v_j - p)) equals -p.(v_i x (v_j - v_i)), the
-- latter from a difference so that tiny (milliarcsecond) edges keep their precision.
CREATE OR REPLACE FUNCTION vo_adql._polygon_has(poly float8[], ra_deg float8, dec_deg float8)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  n int := array_length(poly, 1) / 2;
  px float8 := cosd(dec_deg) * cosd(ra_deg);
  py float8 := cosd(dec_deg) * sind(ra_deg);
  pz float8 := sind(dec_deg);
  x0 float8; y0 float8; z0 float8; xi float8; yi float8; zi float8; xj float8; yj float8; zj float8;
  fan float8 := 0; s float8 := 0; bx float8; b_y float8; bz float8; cx float8; cy float8; cz float8;
  i int; in_left boolean;
BEGIN
  IF n < 3 OR array_length(poly, 1) % 2 = 1 THEN
    RAISE EXCEPTION 'vo_adql: a polygon needs an even number >= 6 of coordinates, got %',
      array_length(poly, 1) USING ERRCODE = '22023';
  END IF;
  x0 := cosd(poly[2]) * cosd(poly[1]); y0 := cosd(poly[2]) * sind(poly[1]); z0 := sind(poly[2]);
  xi := x0; yi := y0; zi := z0;
  IF abs(poly[2]) > 90 THEN
    RAISE EXCEPTION 'vo_adql: polygon vertex 1 has Dec %, outside -90..90', poly[2] USING ERRCODE = '22023';
  END IF;
  FOR i IN 1 .. n LOOP
    IF i < n THEN
      IF abs(poly[2 * i + 2]) > 90 THEN
        RAISE EXCEPTION 'vo_adql: polygon vertex % has Dec %, outside -90..90', i + 1, poly[2 * i + 2]
          USING ERRCODE = '22023';
      END IF;
      xj := cosd(poly[2 * i + 2]) * cosd(poly[2 * i + 1]);
      yj := cosd(poly[2 * i + 2]) * sind(poly[2 * i + 1]);
      zj := sind(poly[2 * i + 2]);
    ELSE
      xj := x0; yj := y0; zj := z0;
    END IF;
    s := s + atan2(-(px * (yi * (zj - zi) - zi * (yj - yi)) + py * (zi * (xj - xi) - xi * (zj - zi))
                     + pz * (xi * (yj - yi) - yi * (xj - xi))),
                   (xi - px) * (xj - px) + (yi - py) * (yj - py) + (zi - pz) * (zj - pz));
    IF i >= 2 AND i < n THEN
      bx := xi - x0; b_y := yi - y0; bz := zi - z0; cx := xj - x0; cy := yj - y0; cz := zj - z0;
      fan := fan + atan2(x0 * (b_y * cz - bz * cy) + y0 * (bz * cx - bx * cz) + z0 * (bx * cy - b_y * cx),
                         1 + (x0 * xi + y0 * yi + z0 * zi) + (xi * xj + yi * yj + zi * zj)
                           + (xj * x0 + yj * y0 + zj * z0));
    END IF;
    xi := xj; yi := yj; zi := zj;
  END LOOP;
  fan := 2 * fan;
  fan := fan - 4 * pi() * round(fan / (4 * pi()));
  in_left := round((CASE WHEN fan >= 0 THEN fan ELSE 4 * pi() + fan END - 2 * s) / (4 * pi())) = 1;
  RETURN CASE WHEN fan >= 0 THEN in_left ELSE NOT in_left END;
END $$;

-- Smallest angular distance (radians) from the unit vector p to the polygon's edges (minor arcs).
CREATE OR REPLACE FUNCTION vo_adql._edge_distance(v float8[], px float8, py float8, pz float8)
RETURNS float8 LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  n int := array_length(v, 1) / 3;
  best float8 := pi();
  d float8;
  i int; j int;
  ax float8; ay float8; az float8; bx float8; b_y float8; bz float8;
  nx float8; ny float8; nz float8; nn float8; pn float8;
BEGIN
  FOR i IN 1 .. n LOOP
    j := i % n + 1;
    ax := v[3 * i - 2]; ay := v[3 * i - 1]; az := v[3 * i];
    bx := v[3 * j - 2]; b_y := v[3 * j - 1]; bz := v[3 * j];
    -- n = a x (b - a) = a x b, from the difference: accurate for tiny edges
    nx := ay * (bz - az) - az * (b_y - ay); ny := az * (bx - ax) - ax * (bz - az);
    nz := ax * (b_y - ay) - ay * (bx - ax);
    nn := sqrt(nx * nx + ny * ny + nz * nz);
    d := NULL;
    IF nn > 0 THEN
      nx := nx / nn; ny := ny / nn; nz := nz / nn;
      -- the foot of the perpendicular lies on the arc iff p.(n x a) >= 0 and p.(b x n) >= 0
      IF px * (ny * az - nz * ay) + py * (nz * ax - nx * az) + pz * (nx * ay - ny * ax) >= 0
         AND px * (b_y * nz - bz * ny) + py * (bz * nx - bx * nz) + pz * (bx * ny - b_y * nx) >= 0 THEN
        pn := px * nx + py * ny + pz * nz;
        d := asin(least(abs(pn), 1.0));
      END IF;
    END IF;
    IF d IS NULL THEN
      d := least(
        atan2(sqrt((py * az - pz * ay) ^ 2 + (pz * ax - px * az) ^ 2 + (px * ay - py * ax) ^ 2),
              px * ax + py * ay + pz * az),
        atan2(sqrt((py * bz - pz * b_y) ^ 2 + (pz * bx - px * bz) ^ 2 + (px * b_y - py * bx) ^ 2),
              px * bx + py * b_y + pz * bz));
    END IF;
    best := least(best, d);
  END LOOP;
  RETURN best;
END $$;

-- Whether any edge of polygon v properly crosses any edge of polygon w (S2's crossing rule:
-- the signs of the four triple products agree; shared vertices do not count).
CREATE OR REPLACE FUNCTION vo_adql._edges_cross(v float8[], w float8[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  n int := array_length(v, 1) / 3;
  m int := array_length(w, 1) / 3;
  i int; j int; k int; l int;
  ax float8; ay float8; az float8; bx float8; b_y float8; bz float8;
  cx float8; cy float8; cz float8; dx float8; dy float8; dz float8;
  nx float8; ny float8; nz float8; t1 float8; t2 float8; t3 float8; t4 float8;
BEGIN
  FOR i IN 1 .. n LOOP
    j := i % n + 1;
    ax := v[3 * i - 2]; ay := v[3 * i - 1]; az := v[3 * i];
    bx := v[3 * j - 2]; b_y := v[3 * j - 1]; bz := v[3 * j];
    nx := ay * (bz - az) - az * (b_y - ay); ny := az * (bx - ax) - ax * (bz - az);
    nz := ax * (b_y - ay) - ay * (bx - ax);
    FOR k IN 1 .. m LOOP
      l := k % m + 1;
      cx := w[3 * k - 2]; cy := w[3 * k - 1]; cz := w[3 * k];
      dx := w[3 * l - 2]; dy := w[3 * l - 1]; dz := w[3 * l];
      t1 := -(nx * cx + ny * cy + nz * cz);
      t2 := nx * dx + ny * dy + nz * dz;
      CONTINUE WHEN t1 = 0 OR t2 = 0 OR sign(t1) <> sign(t2);
      -- c x d as c x (d - c): accurate for tiny edges
      t3 := ax * (cy * (dz - cz) - cz * (dy - cy)) + ay * (cz * (dx - cx) - cx * (dz - cz))
            + az * (cx * (dy - cy) - cy * (dx - cx));
      t4 := -(bx * (cy * (dz - cz) - cz * (dy - cy)) + b_y * (cz * (dx - cx) - cx * (dz - cz))
              + bz * (cx * (dy - cy) - cy * (dx - cx)));
      IF t3 <> 0 AND t4 <> 0 AND sign(t3) = sign(t1) AND sign(t4) = sign(t1) THEN
        RETURN true;
      END IF;
    END LOOP;
  END LOOP;
  RETURN false;
END $$;

-- ---------------------------------------------------------------- CONTAINS / INTERSECTS

-- CONTAINS(a, b) (ADQL 2.1 sec. 4.2.4): 1 if geometry a lies wholly within geometry b.
CREATE OR REPLACE FUNCTION vo_adql.contains(a float8[], b float8[])
RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  na int := array_length(a, 1);
  nb int := array_length(b, 1);
  ka text; kb text;
  va float8[]; vb float8[]; la float8;
  x float8; y float8; z float8; i int;
BEGIN
  -- the row-by-row cases first, without helper calls: a point in a circle or a polygon
  IF na = 2 AND nb = 3 AND b[3] >= 0 THEN
    RETURN (vo_adql.distance(a[1], a[2], b[1], b[2]) <= b[3])::int;
  END IF;
  IF na = 2 AND nb >= 6 AND nb % 2 = 0 THEN
    RETURN vo_adql._polygon_has(b, a[1], a[2])::int;
  END IF;
  ka := vo_adql._kind(a);
  kb := vo_adql._kind(b);
  IF kb = 'point' THEN
    RETURN (ka = 'point' AND vo_adql.distance(a, b) = 0)::int;
  END IF;
  IF kb = 'circle' THEN
    IF ka = 'point' THEN RETURN (vo_adql.distance(a, b) <= b[3])::int; END IF;
    IF ka = 'circle' THEN RETURN (vo_adql.distance(a, b) + a[3] <= b[3])::int; END IF;
    -- a polygon is in the cap iff its farthest boundary point is: pi - (distance of -c to edges)
    va := vo_adql._vectors(a);
    RETURN (degrees(pi() - vo_adql._edge_distance(va, -cosd(b[2]) * cosd(b[1]),
                                                   -cosd(b[2]) * sind(b[1]), -sind(b[2]))) <= b[3])::int;
  END IF;
  IF ka = 'point' THEN
    RETURN vo_adql._polygon_has(b, a[1], a[2])::int;
  END IF;
  vb := vo_adql._vectors(b);
  la := vo_adql._signed_area(vb);
  IF ka = 'circle' THEN
    x := cosd(a[2]) * cosd(a[1]); y := cosd(a[2]) * sind(a[1]); z := sind(a[2]);
    IF NOT vo_adql._has_point(vb, la, x, y, z) THEN RETURN 0; END IF;
    RETURN (ka = 'point' OR degrees(vo_adql._edge_distance(vb, x, y, z)) >= a[3])::int;
  END IF;
  va := vo_adql._vectors(a);
  FOR i IN 1 .. array_length(va, 1) / 3 LOOP
    IF NOT vo_adql._has_point(vb, la, va[3 * i - 2], va[3 * i - 1], va[3 * i]) THEN RETURN 0; END IF;
  END LOOP;
  RETURN (NOT vo_adql._edges_cross(va, vb))::int;
END $$;

-- INTERSECTS(a, b) (ADQL 2.1 sec. 4.2.10): 1 if the two geometries share at least one point.
CREATE OR REPLACE FUNCTION vo_adql.intersects(a float8[], b float8[])
RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  ka text := vo_adql._kind(a);
  kb text := vo_adql._kind(b);
  va float8[]; vb float8[];
  i int;
BEGIN
  IF ka = 'polygon' AND kb <> 'polygon' THEN
    RETURN vo_adql.intersects(b, a);
  END IF;
  IF ka = 'point' THEN
    IF kb = 'point' THEN RETURN (vo_adql.distance(a, b) = 0)::int; END IF;
    RETURN vo_adql.contains(a, b);
  END IF;
  IF ka = 'circle' AND kb = 'point' THEN RETURN vo_adql.contains(b, a); END IF;
  IF ka = 'circle' AND kb = 'circle' THEN
    RETURN (vo_adql.distance(a, b) <= a[3] + b[3])::int;
  END IF;
  vb := vo_adql._vectors(b);
  IF ka = 'circle' THEN
    IF vo_adql._has_point(vb, vo_adql._signed_area(vb), cosd(a[2]) * cosd(a[1]),
                          cosd(a[2]) * sind(a[1]), sind(a[2])) THEN
      RETURN 1;
    END IF;
    RETURN (degrees(vo_adql._edge_distance(vb, cosd(a[2]) * cosd(a[1]), cosd(a[2]) * sind(a[1]),
                                           sind(a[2]))) <= a[3])::int;
  END IF;
  va := vo_adql._vectors(a);
  IF vo_adql._edges_cross(va, vb) THEN RETURN 1; END IF;
  IF vo_adql._has_point(vb, vo_adql._signed_area(vb), va[1], va[2], va[3]) THEN RETURN 1; END IF;
  RETURN vo_adql._has_point(va, vo_adql._signed_area(va), vb[1], vb[2], vb[3])::int;
END $$;

-- ---------------------------------------------------------------- AREA, CENTROID, BOX

-- AREA(g) (ADQL 2.1 sec. 4.2.3) in square degrees; a polygon's is its smaller region's.
CREATE OR REPLACE FUNCTION vo_adql.area(g float8[])
RETURNS float8 LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  k text := vo_adql._kind(g);
  la float8;
BEGIN
  IF k = 'point' THEN RETURN 0; END IF;
  IF k = 'circle' THEN
    RETURN 4 * pi() * sind(least(g[3], 180) / 2) ^ 2 * (180 / pi()) ^ 2;
  END IF;
  RETURN abs(vo_adql._signed_area(vo_adql._vectors(g))) * (180 / pi()) ^ 2;
END $$;

-- CENTROID(g) (ADQL 2.1 sec. 4.2.7): a circle's centre; a polygon's area-weighted centre
-- (its vector area: half the sum of edge length times edge pole), as a point.
CREATE OR REPLACE FUNCTION vo_adql.centroid(g float8[])
RETURNS float8[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  k text := vo_adql._kind(g);
  v float8[]; n int; i int; j int;
  sx float8 := 0; sy float8 := 0; sz float8 := 0;
  nx float8; ny float8; nz float8; nn float8; theta float8; sgn float8;
BEGIN
  IF k <> 'polygon' THEN RETURN ARRAY[g[1], g[2]]; END IF;
  v := vo_adql._vectors(g);
  n := array_length(v, 1) / 3;
  FOR i IN 1 .. n LOOP
    j := i % n + 1;
    nx := v[3 * i - 1] * v[3 * j] - v[3 * i] * v[3 * j - 1];
    ny := v[3 * i] * v[3 * j - 2] - v[3 * i - 2] * v[3 * j];
    nz := v[3 * i - 2] * v[3 * j - 1] - v[3 * i - 1] * v[3 * j - 2];
    nn := sqrt(nx * nx + ny * ny + nz * nz);
    CONTINUE WHEN nn = 0;
    theta := atan2(nn, v[3 * i - 2] * v[3 * j - 2] + v[3 * i - 1] * v[3 * j - 1] + v[3 * i] * v[3 * j]);
    sx := sx + theta * nx / nn; sy := sy + theta * ny / nn; sz := sz + theta * nz / nn;
  END LOOP;
  sgn := CASE WHEN vo_adql._signed_area(v) >= 0 THEN 1 ELSE -1 END;
  IF sqrt(sx * sx + sy * sy + sz * sz) < 1e-12 THEN  -- symmetric about the centre: mean vertex
    sx := 0; sy := 0; sz := 0; sgn := 1;
    FOR i IN 1 .. n LOOP
      sx := sx + v[3 * i - 2]; sy := sy + v[3 * i - 1]; sz := sz + v[3 * i];
    END LOOP;
  END IF;
  sx := sgn * sx; sy := sgn * sy; sz := sgn * sz;
  RETURN ARRAY[CASE WHEN sx = 0 AND sy = 0 THEN 0 ELSE vo_adql._ra360(atan2d(sy, sx)) END,
               atan2d(sz, sqrt(sx * sx + sy * sy))];
END $$;

-- BOX(ra, dec, width, height) (ADQL 2.0 sec. 2.4.3, deprecated in 2.1 sec. 4.2.5): four
-- vertices whose sides are great circles: in the gnomonic plane at the centre they are the
-- lines x = +-tan(w/2) along east and y = +-tan(h/2) along north.
CREATE OR REPLACE FUNCTION vo_adql.box(ra_deg float8, dec_deg float8, width float8, height float8)
RETURNS float8[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  tx float8; ty float8;
  cx float8 := cosd(dec_deg) * cosd(ra_deg); cy float8 := cosd(dec_deg) * sind(ra_deg); cz float8 := sind(dec_deg);
  ex float8 := -sind(ra_deg); ey float8 := cosd(ra_deg);
  nx float8 := -sind(dec_deg) * cosd(ra_deg); ny float8 := -sind(dec_deg) * sind(ra_deg); nz float8 := cosd(dec_deg);
  out float8[] := '{}';
  xs int[] := ARRAY[-1, 1, 1, -1];
  ys int[] := ARRAY[-1, -1, 1, 1];
  i int; x float8; y float8; z float8;
BEGIN
  IF width < 0 OR height < 0 OR width >= 180 OR height >= 180 THEN
    RAISE EXCEPTION 'vo_adql: a BOX needs 0 <= width, height < 180 degrees, got % x %', width, height
      USING ERRCODE = '22023';
  END IF;
  tx := tand(width / 2); ty := tand(height / 2);
  FOR i IN 1 .. 4 LOOP
    x := cx + xs[i] * tx * ex + ys[i] * ty * nx;
    y := cy + xs[i] * tx * ey + ys[i] * ty * ny;
    z := cz + ys[i] * ty * nz;
    out := out || ARRAY[vo_adql._ra360(atan2d(y, x)), atan2d(z, sqrt(x * x + y * y))];
  END LOOP;
  RETURN out;
END $$;

-- ---------------------------------------------------------------- HEALPix (nested scheme)

-- Bits of x (< 2^32) spread to the even bit positions: the x part of a nested index.
CREATE OR REPLACE FUNCTION vo_adql._spread_bits(v bigint)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  x bigint := v & 4294967295;
BEGIN
  x := (x | (x << 16)) & 281470681808895;
  x := (x | (x << 8)) & 71777214294589695;
  x := (x | (x << 4)) & 1085102592571150095;
  x := (x | (x << 2)) & 3689348814741910323;
  x := (x | (x << 1)) & 6148914691236517205;
  RETURN x;
END $$;

-- The even bits of v gathered into an integer (inverse of _spread_bits).
CREATE OR REPLACE FUNCTION vo_adql._compact_bits(v bigint)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  x bigint := v & 6148914691236517205;
BEGIN
  x := (x | (x >> 1)) & 3689348814741910323;
  x := (x | (x >> 2)) & 1085102592571150095;
  x := (x | (x >> 4)) & 71777214294589695;
  x := (x | (x >> 8)) & 281470681808895;
  x := (x | (x >> 16)) & 4294967295;
  RETURN x;
END $$;

-- ivo_healpix_index (ADQL 2.1 sec. 4.3 UDF; MOC 2.0 sec. 2 NESTED numbering): the nested
-- pixel of (ra, dec) at hpx_order 0..29. The arithmetic follows the HEALPix C++ loc2pix
-- (Gorski et al. 2005) step for step, so results equal healpy.ang2pix(nest=True, lonlat=True).
CREATE OR REPLACE FUNCTION vo_adql.healpix_index(hpx_order integer, ra_deg float8, dec_deg float8)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  nside bigint;
  theta float8; z float8; za float8; sth float8; have_sth boolean;
  tt float8; temp1 float8; temp2 float8; tp float8; tmp float8;
  jp bigint; jm bigint; ifp bigint; ifm bigint; face bigint; ix bigint; iy bigint; ntt bigint;
BEGIN
  IF hpx_order < 0 OR hpx_order > 29 THEN
    RAISE EXCEPTION 'vo_adql: HEALPix order must be 0..29, got %', hpx_order USING ERRCODE = '22023';
  END IF;
  IF dec_deg < -90 OR dec_deg > 90 OR dec_deg <> dec_deg OR ra_deg <> ra_deg THEN
    RAISE EXCEPTION 'vo_adql: Dec must lie in -90..90 degrees, got %', dec_deg USING ERRCODE = '22023';
  END IF;
  nside := 1::bigint << hpx_order;
  theta := pi() / 2 - dec_deg * (pi() / 180);
  z := cos(theta);
  have_sth := theta < 0.01 OR theta > 3.14159 - 0.01;
  sth := CASE WHEN have_sth THEN sin(theta) ELSE 0 END;
  za := abs(z);
  tt := ra_deg * (pi() / 180) * 0.6366197723675813430755350534900574;
  IF tt >= 0 THEN
    IF tt >= 4 THEN tt := tt - 4 * trunc(tt / 4); END IF;
  ELSE
    tt := tt - 4 * trunc(tt / 4) + 4;
    IF tt = 4 THEN tt := 0; END IF;
  END IF;
  IF za <= 2.0 / 3.0 THEN
    temp1 := nside * (0.5 + tt);
    temp2 := nside * (z * 0.75);
    jp := trunc(temp1 - temp2)::bigint;
    jm := trunc(temp1 + temp2)::bigint;
    ifp := jp >> hpx_order;
    ifm := jm >> hpx_order;
    face := CASE WHEN ifp = ifm THEN ifp | 4 WHEN ifp < ifm THEN ifp ELSE ifm + 8 END;
    ix := jm & (nside - 1);
    iy := nside - (jp & (nside - 1)) - 1;
  ELSE
    ntt := least(3, trunc(tt)::bigint);
    tp := tt - ntt;
    tmp := CASE WHEN za < 0.99 OR NOT have_sth THEN nside * sqrt(3 * (1 - za))
                ELSE nside * sth / sqrt((1 + za) / 3) END;
    jp := least(trunc(tp * tmp)::bigint, nside - 1);
    jm := least(trunc((1.0 - tp) * tmp)::bigint, nside - 1);
    IF z >= 0 THEN
      face := ntt; ix := nside - jm - 1; iy := nside - jp - 1;
    ELSE
      face := ntt + 8; ix := jp; iy := jm;
    END IF;
  END IF;
  RETURN (face << (2 * hpx_order)) + vo_adql._spread_bits(ix) + (vo_adql._spread_bits(iy) << 1);
END $$;

-- ivo_healpix_center (ADQL 2.1 sec. 4.3 UDF): the centre of a nested pixel as a point
-- (HEALPix C++ pix2loc, as healpy.pix2ang(nest=True, lonlat=True)).
CREATE OR REPLACE FUNCTION vo_adql.healpix_center(hpx_order integer, hpx_index bigint)
RETURNS float8[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  nside bigint; npface bigint; face int; ipf bigint; ix bigint; iy bigint;
  jr bigint; nr bigint; jp bigint; z float8; sth float8; tmp float8; phi float8;
  fact2 float8; fact1 float8;
  jrll int[] := ARRAY[2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4];
  jpll int[] := ARRAY[1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7];
BEGIN
  IF hpx_order < 0 OR hpx_order > 29 THEN
    RAISE EXCEPTION 'vo_adql: HEALPix order must be 0..29, got %', hpx_order USING ERRCODE = '22023';
  END IF;
  nside := 1::bigint << hpx_order;
  npface := nside * nside;
  IF hpx_index < 0 OR hpx_index >= 12 * npface THEN
    RAISE EXCEPTION 'vo_adql: HEALPix index % is outside 0..% at order %', hpx_index, 12 * npface - 1,
      hpx_order USING ERRCODE = '22023';
  END IF;
  fact2 := 4.0 / (12 * npface);
  fact1 := (nside << 1) * fact2;
  face := (hpx_index >> (2 * hpx_order))::int;
  ipf := hpx_index & (npface - 1);
  ix := vo_adql._compact_bits(ipf);
  iy := vo_adql._compact_bits(ipf >> 1);
  jr := (jrll[face + 1]::bigint << hpx_order) - ix - iy - 1;
  sth := NULL;
  IF jr < nside THEN
    nr := jr;
    tmp := (nr * nr) * fact2;
    z := 1 - tmp;
    IF z > 0.99 THEN sth := sqrt(tmp * (2.0 - tmp)); END IF;
  ELSIF jr > 3 * nside THEN
    nr := nside * 4 - jr;
    tmp := (nr * nr) * fact2;
    z := tmp - 1;
    IF z < -0.99 THEN sth := sqrt(tmp * (2.0 - tmp)); END IF;
  ELSE
    nr := nside;
    z := (2 * nside - jr) * fact1;
  END IF;
  jp := jpll[face + 1]::bigint * nr + ix - iy;
  IF jp < 0 THEN jp := jp + 8 * nr; END IF;
  phi := CASE WHEN nr = nside THEN 0.75 * (pi() / 2) * jp * fact1 ELSE (0.5 * (pi() / 2) * jp) / nr END;
  RETURN ARRAY[vo_adql._ra360(degrees(phi)),
               CASE WHEN sth IS NULL THEN degrees(asin(z)) ELSE degrees(atan2(z, sth)) END];
END $$;

-- ---------------------------------------------------------------- HEALPix neighbours, crossmatch ranges

-- The nested order-k neighbour of pixel pix one step (dx, dy) away on its face's (x, y) grid,
-- across face edges too (HEALPix C++ neighbors, Gorski et al. 2005: per direction of crossing,
-- the face met and how its x/y axes turn); -1 where none exists (a corner where only three
-- faces meet). Equals healpy.get_all_neighbours(nest=True), whose order SW, W, NW, N, NE, E,
-- SE, S is (dx, dy) = (-1,0) (-1,1) (0,1) (1,1) (1,0) (1,-1) (0,-1) (-1,-1).
CREATE OR REPLACE FUNCTION vo_adql._healpix_neighbour_across(k integer, pix bigint, dx integer, dy integer)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
  nside bigint := 1::bigint << k;
  face integer := (pix >> (2 * k))::integer;
  ipf bigint := pix & ((1::bigint << (2 * k)) - 1);
  x bigint := vo_adql._compact_bits(ipf) + dx;
  y bigint := vo_adql._compact_bits(ipf >> 1) + dy;
  side integer := 4;  -- 3x3 position of the face crossed into: 4 = same face
  f integer; bits integer; tmp bigint;
  -- per side (0..8, row-major from dy = -1, dx = -1) and face: the face met, -1 for none
  faces integer[] := ARRAY[
    [ 8,  9, 10, 11, -1, -1, -1, -1, 10, 11,  8,  9],
    [ 5,  6,  7,  4,  8,  9, 10, 11,  9, 10, 11,  8],
    [-1, -1, -1, -1,  5,  6,  7,  4, -1, -1, -1, -1],
    [ 4,  5,  6,  7, 11,  8,  9, 10, 11,  8,  9, 10],
    [ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11],
    [ 1,  2,  3,  0,  0,  1,  2,  3,  5,  6,  7,  4],
    [-1, -1, -1, -1,  7,  4,  5,  6, -1, -1, -1, -1],
    [ 3,  0,  1,  2,  3,  0,  1,  2,  4,  5,  6,  7],
    [ 2,  3,  0,  1, -1, -1, -1, -1,  0,  1,  2,  3]];
  -- per side and face row (north, equator, south): 1 = flip x, 2 = flip y, 4 = swap x and y
  turns integer[] := ARRAY[
    [0, 0, 3], [0, 0, 6], [0, 0, 0], [0, 0, 5], [0, 0, 0], [5, 0, 0], [0, 0, 0], [6, 0, 0],
    [3, 0, 0]];
BEGIN
  IF x < 0 THEN x := x + nside; side := side - 1;
  ELSIF x >= nside THEN x := x - nside; side := side + 1; END IF;
  IF y < 0 THEN y := y + nside; side := side - 3;
  ELSIF y >= nside THEN y := y - nside; side := side + 3; END IF;
  f := faces[side + 1][face + 1];
  IF f < 0 THEN RETURN -1; END IF;
  bits := turns[side + 1][(face >> 2) + 1];
  IF bits & 1 <> 0 THEN x := nside - x - 1; END IF;
  IF bits & 2 <> 0 THEN y := nside - y - 1; END IF;
  IF bits & 4 <> 0 THEN tmp := x; x := y; y := tmp; END IF;
  RETURN (f::bigint << (2 * k)) + vo_adql._spread_bits(x) + (vo_adql._spread_bits(y) << 1);
END $$;

-- The even bits (x of the nested index) of an order-k pixel number within its face.
CREATE OR REPLACE FUNCTION vo_adql._even_bits(k integer)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 6148914691236517205 & ((1::bigint << (2 * k)) - 1)
$$;

-- The same neighbour: inside the face by carry arithmetic on the interleaved bits (x on the
-- even bits, y on the odd ones), across a face edge through _healpix_neighbour_across. Plain
-- SQL without FROM, so PostgreSQL inlines it (constant k, dx, dy fold away).
CREATE OR REPLACE FUNCTION vo_adql.healpix_neighbour(k integer, pix bigint, dx integer, dy integer)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN (dx < 0 AND pix & vo_adql._even_bits(k) = 0)
      OR (dx > 0 AND pix & vo_adql._even_bits(k) = vo_adql._even_bits(k))
      OR (dy < 0 AND pix & (vo_adql._even_bits(k) << 1) = 0)
      OR (dy > 0 AND pix & (vo_adql._even_bits(k) << 1) = vo_adql._even_bits(k) << 1)
    THEN vo_adql._healpix_neighbour_across(k, pix, dx, dy)
    ELSE (pix & ~(vo_adql._even_bits(k) * 3))
      | CASE WHEN dx = 0 THEN pix & vo_adql._even_bits(k)
             WHEN dx > 0 THEN ((pix | ~vo_adql._even_bits(k)) + 1) & vo_adql._even_bits(k)
             ELSE ((pix & vo_adql._even_bits(k)) - 1) & vo_adql._even_bits(k) END
      | CASE WHEN dy = 0 THEN pix & (vo_adql._even_bits(k) << 1)
             WHEN dy > 0 THEN ((pix | ~(vo_adql._even_bits(k) << 1)) + 1) & (vo_adql._even_bits(k) << 1)
             ELSE ((pix & (vo_adql._even_bits(k) << 1)) - 1) & (vo_adql._even_bits(k) << 1) END
  END
$$;

-- Crossmatch ranges (DESIGN.md HEALPix step 5, in SQL): for a position with order-29 index
-- hpx, the order-29 ranges of its order-k pixel and of those of the 8 neighbours it lies
-- near. ``near`` is a distance to a pixel side in order-29 sub-pixel steps, bits spread like
-- x (vo.adql.crossmatch computes it from the radius): a neighbour across the x- side is
-- taken when the position's x offset inside its pixel is at most ``near``, and so on for
-- each side; a diagonal neighbour when both of its sides are. Comparing the spread bits
-- compares the offsets (spreading keeps order), so no bits are compacted per row. Ranges of
-- one position are distinct pixels, hence disjoint: a join on them repeats no pair. NULL
-- hpx gives no range. Plain SQL so that PostgreSQL inlines it into the LATERAL join.
CREATE OR REPLACE FUNCTION vo_adql.crossmatch_ranges(hpx bigint, k integer, near bigint)
RETURNS TABLE (lo bigint, hi bigint) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT n.p << (58 - 2 * k), ((n.p + 1) << (58 - 2 * k)) - 1
  FROM (SELECT hpx >> (58 - 2 * k) AS own,
               hpx & (6148914691236517205 & ((1::bigint << (58 - 2 * k)) - 1)) <= near AS xlo,
               ~hpx & (6148914691236517205 & ((1::bigint << (58 - 2 * k)) - 1)) <= near AS xhi,
               hpx & ((6148914691236517205 & ((1::bigint << (58 - 2 * k)) - 1)) << 1) <= near << 1 AS ylo,
               ~hpx & ((6148914691236517205 & ((1::bigint << (58 - 2 * k)) - 1)) << 1) <= near << 1 AS yhi) AS s
  CROSS JOIN LATERAL unnest(ARRAY[
    s.own,
    CASE WHEN s.xlo THEN vo_adql.healpix_neighbour(k, s.own, -1, 0) END,
    CASE WHEN s.xlo AND s.yhi THEN vo_adql.healpix_neighbour(k, s.own, -1, 1) END,
    CASE WHEN s.yhi THEN vo_adql.healpix_neighbour(k, s.own, 0, 1) END,
    CASE WHEN s.xhi AND s.yhi THEN vo_adql.healpix_neighbour(k, s.own, 1, 1) END,
    CASE WHEN s.xhi THEN vo_adql.healpix_neighbour(k, s.own, 1, 0) END,
    CASE WHEN s.xhi AND s.ylo THEN vo_adql.healpix_neighbour(k, s.own, 1, -1) END,
    CASE WHEN s.ylo THEN vo_adql.healpix_neighbour(k, s.own, 0, -1) END,
    CASE WHEN s.xlo AND s.ylo THEN vo_adql.healpix_neighbour(k, s.own, -1, -1) END] ) AS n(p)
  WHERE n.p >= 0
$$;

-- ---------------------------------------------------------------- RAND(seed)

-- ADQL 2.1 sec. 2.3 RAND(seed): the same query with the same seed gives the same values.
-- The first seeded call of a query (each query is one transaction) seeds the generator
-- (setseed takes [-1, 1]: other seeds are folded into it); later calls, whatever their
-- seed, continue that one sequence.
CREATE OR REPLACE FUNCTION vo_adql.rand(seed float8)
RETURNS float8 LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED AS $$
BEGIN
  IF seed IS NOT NULL AND coalesce(current_setting('vo_adql.rand_seed', true), '') = '' THEN
    PERFORM set_config('vo_adql.rand_seed', seed::text, true);
    PERFORM setseed(CASE WHEN seed BETWEEN -1 AND 1 THEN seed
                         ELSE seed - 2 * floor((seed + 1) / 2) END);
  END IF;
  RETURN random();
END
$$;

-- ---------------------------------------------------------------- RegTAP 1.1 sec. 9 UDFs

-- ivo_hasword: needle is a word of haystack, case-insensitively; English stemming improves
-- recall (allowed by RegTAP), a plain word-boundary match catches stop words.
CREATE OR REPLACE FUNCTION vo_adql.ivo_hasword(haystack text, word text)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN haystack IS NULL OR word IS NULL OR word = '' THEN 0
              WHEN to_tsvector('english'::regconfig, haystack) @@ plainto_tsquery('english'::regconfig, word)
                   OR haystack ~* ('(^|[^[:alpha:]])'
                                   || regexp_replace(word, '([.^$*+?()\[\]{}|\\-])', '\\\1', 'g')
                                   || '($|[^[:alpha:]])')
              THEN 1 ELSE 0 END
$$;

-- ivo_hashlist_has: item is one of the '#'-separated words of hashlist, case-insensitively.
CREATE OR REPLACE FUNCTION vo_adql.ivo_hashlist_has(hashlist text, item text)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN lower(item) = ANY (string_to_array(lower(hashlist), '#')) THEN 1 ELSE 0 END
$$;

-- ivo_nocasematch: value matches the SQL LIKE pattern, case-insensitively.
CREATE OR REPLACE FUNCTION vo_adql.ivo_nocasematch(value text, pattern text)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN value ILIKE pattern THEN 1 ELSE 0 END
$$;

-- ivo_interval_overlaps (RegTAP 1.2 sec. 9): [l1, h1] and [l2, h2] share a point (touching counts).
CREATE OR REPLACE FUNCTION vo_adql.ivo_interval_overlaps(l1 float8, h1 float8, l2 float8, h2 float8)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN l1 <= h2 AND l2 <= h1 THEN 1 ELSE 0 END
$$;

-- ---------------------------------------------------------------- MOC membership (MOC 2.0 sec. 2)

-- Whether the order-29 nested pixel pix lies in one of the inclusive ranges [lo[i], hi[i]]
-- (sorted, disjoint: vo.adql.moc computes them from the MOC text). width_bucket finds by
-- binary search the last lo <= pix; a NULL pixel gives NULL. Plain SQL: PostgreSQL inlines it.
CREATE OR REPLACE FUNCTION vo_adql.moc_has_pixel(lo bigint[], hi bigint[], pix bigint)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN pix IS NULL THEN NULL
              ELSE coalesce(pix <= hi[width_bucket(pix, lo)], false) END
$$;

-- ivo_moc_contains(moc, ra, dec) (a UDF, ADQL 2.1 sec. 4.3): 1 if the position's order-29
-- pixel lies in the MOC's ranges, else 0; NULL for a NULL position (as CONTAINS with a
-- NULL point: unknown, so neither "= 1" nor "= 0" selects it).
CREATE OR REPLACE FUNCTION vo_adql.moc_contains(lo bigint[], hi bigint[], ra_deg float8, dec_deg float8)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE vo_adql.moc_has_pixel(lo, hi, vo_adql.healpix_index(29, ra_deg, dec_deg))
           WHEN true THEN 1 WHEN false THEN 0 END
$$;
