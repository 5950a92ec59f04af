package geo

// Location flags: how a reported point was placed in the city's grid.
const (
	LocCell    = "cell"      // inside a grid cell
	LocNearest = "nearest"   // in no cell; the nearest cell's locality within the fallback distance (属地兜底)
	LocNone    = "unlocated" // in no cell and none near: the acceptor places it
	LocOutside = "outside"   // outside the city altogether
	LocManual  = "manual"    // placed in a region by the acceptor
	LocAddress = "address"   // a point estimated from the address text (the cell it names): to be checked
)

// Location is where a point falls in the city's grid (万米单元网格).
type Location struct {
	Flag        string  `json:"flag"`
	CellID      int64   `json:"cell_id,omitempty"`
	CellCode    string  `json:"cell_code,omitempty"`
	CellName    string  `json:"cell_name,omitempty"`
	RegionID    int64   `json:"region_id,omitempty"`
	OwnerUnitID int64   `json:"owner_unit_id,omitempty"`
	DistanceM   float64 `json:"distance_m,omitempty"`
}
